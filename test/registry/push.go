// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"crypto/tls"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/podshim/podshim/test/images"
)

// Push uploads every entry under each of its tags, over HTTP to this very
// server with its own credentials. Push's requests are not counted by
// Requests.
func (s *Server) Push(entries []images.Entry) error {
	opts := []remote.Option{remote.WithAuth(s.pushAuth()), remote.WithTransport(s.pushTransport())}
	for _, e := range entries {
		for _, tag := range e.Tags {
			ref, err := name.NewTag(s.Addr+"/"+e.Repo+":"+tag, s.nameOptions()...)
			if err != nil {
				return fmt.Errorf("registry: reference for %s:%s: %w", e.Repo, tag, err)
			}
			switch {
			case e.Index != nil:
				err = remote.WriteIndex(ref, e.Index, opts...)
			case e.Image != nil:
				err = remote.Write(ref, e.Image, opts...)
			default:
				err = fmt.Errorf("entry has neither image nor index")
			}
			if err != nil {
				return fmt.Errorf("registry: push %s: %w", ref, err)
			}
		}
	}
	return nil
}

// Ref is the reference clients use for repo:tag on this server.
func (s *Server) Ref(repo, tag string) string {
	return s.Addr + "/" + repo + ":" + tag
}

func (s *Server) nameOptions() []name.Option {
	if s.opts.TLS == nil {
		return []name.Option{name.Insecure}
	}
	return nil
}

func (s *Server) pushAuth() authn.Authenticator {
	c := s.opts.BasicAuth
	if c == nil {
		c = s.opts.TokenAuth
	}
	if c == nil {
		return authn.Anonymous
	}
	return &authn.Basic{Username: c.Username, Password: c.Password}
}

// pushTransport marks Push's requests and, for HTTPS, skips certificate
// verification: the only peer is this process's own listener, whose
// certificate the caller may have minted without keeping the CA around.
func (s *Server) pushTransport() http.RoundTripper {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.opts.TLS != nil {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback to ourselves
	}
	return markPush{tr}
}

type markPush struct{ next http.RoundTripper }

func (m markPush) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(pushHeader, "1")
	return m.next.RoundTrip(r)
}
