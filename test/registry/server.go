// SPDX-License-Identifier: Apache-2.0

// Package registry runs an in-memory OCI/Docker registry on loopback for
// podshim's tests: plain HTTP or HTTPS, anonymous, basic auth or the Docker
// bearer-token flow, with a count of the requests it served so tests can
// prove what a pull did (or did not) download.
package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// Credentials are a username and password.
type Credentials struct {
	Username string
	Password string
}

// Options configure Start. The zero value is an anonymous plain-HTTP
// registry on a free loopback port.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// TLS, when set, makes the server speak HTTPS (see NewTestCA).
	TLS *tls.Config
	// BasicAuth, when set, requires HTTP basic auth on every request.
	BasicAuth *Credentials
	// TokenAuth, when set, requires the Docker bearer-token flow: /v2/
	// answers 401 with a Bearer challenge whose realm is this server's
	// /token, which exchanges these credentials for an opaque token.
	TokenAuth *Credentials
	// Log receives the registry's access log; nil discards it.
	Log io.Writer
}

// Server is a running registry.
type Server struct {
	// Addr is the host:port it listens on, e.g. "127.0.0.1:38211"; image
	// references name it as their registry.
	Addr string

	opts  Options
	token string
	srv   *http.Server
	done  chan struct{}

	mu    sync.Mutex
	paths []string
}

// service is the service name of the token flow.
const service = "podshim-test-registry"

// pushHeader marks the requests Push itself makes, which Requests does not
// count: tests want to know what the client under test fetched.
const pushHeader = "X-Podshim-Test-Push"

// Start listens and serves in the background until Close.
func Start(opts Options) (*Server, error) {
	if opts.BasicAuth != nil && opts.TokenAuth != nil {
		return nil, errors.New("registry: set at most one of BasicAuth and TokenAuth")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("registry: listen on %s: %w", opts.Addr, err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts, done: make(chan struct{})}
	if opts.TokenAuth != nil {
		if s.token, err = newToken(); err != nil {
			ln.Close()
			return nil, err
		}
	}
	var h http.Handler = ggcrregistry.New(ggcrregistry.Logger(log.New(logw, "registry: ", log.LstdFlags)))
	h = s.authenticate(h)
	h = s.count(h)
	s.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, ErrorLog: log.New(logw, "registry: ", log.LstdFlags)}
	if opts.TLS != nil {
		ln = tls.NewListener(ln, opts.TLS.Clone())
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// URL is the server's base URL, e.g. "http://127.0.0.1:38211".
func (s *Server) URL() string {
	if s.opts.TLS != nil {
		return "https://" + s.Addr
	}
	return "http://" + s.Addr
}

// Close stops the server and waits for it to finish.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if err != nil {
		return fmt.Errorf("registry: close: %w", err)
	}
	return nil
}

// count records the path of every request not made by Push.
func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(pushHeader) == "" {
			s.mu.Lock()
			s.paths = append(s.paths, r.URL.Path)
			s.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// Requests returns how many requests (other than Push's) had a path
// starting with prefix, e.g. "/v2/library/busybox/blobs/"; "" counts all.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.paths {
		if strings.HasPrefix(p, prefix) {
			n++
		}
	}
	return n
}

// ResetRequests forgets the requests counted so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.paths = nil
	s.mu.Unlock()
}
