// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/podshim/podshim/test/images"
)

// tinyImage is a one-file image, cheap to push and pull.
func tinyImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := images.WithLayer(empty.Image, []images.TarEntry{{Name: "hello", Mode: 0o644, Data: []byte("hi\n")}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func push(t *testing.T, s *Server, entries ...images.Entry) {
	t.Helper()
	if err := s.Push(entries); err != nil {
		t.Fatal(err)
	}
}

// pull fetches the manifest and every blob of ref, as a runtime would.
func pull(s *Server, ref string, opts ...remote.Option) (v1.Image, error) {
	var nopts []name.Option
	if s.opts.TLS == nil {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r, opts...)
	if err != nil {
		return nil, err
	}
	if _, err := img.RawConfigFile(); err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return nil, err
		}
		_, err = io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
	}
	return img, nil
}

func TestPushPullAndCountRequests(t *testing.T) {
	set, err := images.CRITestSet()
	if err != nil {
		t.Fatal(err)
	}
	var busybox []images.Entry
	for _, e := range set {
		if e.Repo == "library/busybox" || e.Repo == "e2e-test-images/busybox" {
			busybox = append(busybox, e)
		}
	}
	s := start(t, Options{})
	push(t, s, busybox...)
	if n := s.Requests(""); n != 0 {
		t.Errorf("Push's own requests were counted: %d", n)
	}

	img, err := pull(s, s.Ref("library/busybox", "1"))
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	var want v1.Hash
	for _, e := range busybox {
		if e.Repo == "library/busybox" {
			want, _ = e.Image.Digest()
		}
	}
	if got, _ := img.Digest(); got != want {
		t.Errorf("pulled %s, pushed %s", got, want)
	}
	if n := s.Requests("/v2/library/busybox/blobs/"); n < 2 {
		t.Errorf("blob requests %d, want config + layer", n)
	}
	if n := s.Requests("/v2/library/busybox/manifests/"); n < 1 {
		t.Errorf("manifest requests %d", n)
	}

	// A manifest-only check downloads no blob.
	s.ResetRequests()
	r, _ := name.NewTag(s.Ref("library/busybox", "1"), name.Insecure)
	if _, err := remote.Head(r); err != nil {
		t.Fatal(err)
	}
	if n := s.Requests("/v2/library/busybox/blobs/"); n != 0 {
		t.Errorf("HEAD fetched %d blobs", n)
	}

	// The multi-platform tag resolves to the host's image.
	idxImg, err := pull(s, s.Ref("e2e-test-images/busybox", "1.29-2"),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		t.Fatalf("pull index: %v", err)
	}
	cf, err := idxImg.ConfigFile()
	if err != nil || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform pick: %v %v", cf, err)
	}
}

func TestBasicAuth(t *testing.T) {
	creds := &Credentials{Username: "alice", Password: "s3cret"}
	s := start(t, Options{BasicAuth: creds})
	push(t, s, images.Entry{Repo: "private/tiny", Tags: []string{"v1"}, Image: tinyImage(t)})

	resp, err := http.Get(s.URL() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("anonymous /v2/: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	ref := s.Ref("private/tiny", "v1")
	if _, err := pull(s, ref); err == nil {
		t.Error("anonymous pull succeeded")
	}
	if _, err := pull(s, ref, remote.WithAuth(&authn.Basic{Username: "alice", Password: "wrong"})); err == nil {
		t.Error("pull with a wrong password succeeded")
	}
	if _, err := pull(s, ref, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
		t.Errorf("pull with credentials: %v", err)
	}
}

func TestTokenAuth(t *testing.T) {
	creds := &Credentials{Username: "bob", Password: "hunter2"}
	s := start(t, Options{TokenAuth: creds})
	push(t, s, images.Entry{Repo: "private/tiny", Tags: []string{"v1"}, Image: tinyImage(t)})

	// The challenge names this server's token endpoint and the scope.
	resp, err := http.Get(s.URL() + "/v2/private/tiny/manifests/v1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	challenge := resp.Header.Get("WWW-Authenticate")
	wantChallenge := `Bearer realm="` + s.URL() + `/token",service="podshim-test-registry",scope="repository:private/tiny:pull"`
	if resp.StatusCode != http.StatusUnauthorized || challenge != wantChallenge {
		t.Errorf("challenge: %d %q, want %q", resp.StatusCode, challenge, wantChallenge)
	}

	tokenStatus := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Token string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Token
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/token?service=podshim-test-registry", nil)
	if code, _ := tokenStatus(req); code != http.StatusUnauthorized {
		t.Errorf("token without credentials: %d", code)
	}
	req.SetBasicAuth("bob", "wrong")
	if code, _ := tokenStatus(req); code != http.StatusUnauthorized {
		t.Errorf("token with a wrong password: %d", code)
	}
	req.SetBasicAuth("bob", "hunter2")
	code, token := tokenStatus(req)
	if code != http.StatusOK || token == "" {
		t.Fatalf("token with credentials: %d %q", code, token)
	}
	form := url.Values{"grant_type": {"password"}, "username": {"bob"}, "password": {"hunter2"}, "service": {"podshim-test-registry"}}
	post, _ := http.NewRequest(http.MethodPost, s.URL()+"/token", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, tok := tokenStatus(post); code != http.StatusOK || tok != token {
		t.Errorf("OAuth2 password grant: %d %q", code, tok)
	}

	v2, _ := http.NewRequest(http.MethodGet, s.URL()+"/v2/", nil)
	v2.Header.Set("Authorization", "Bearer "+token)
	resp, err = http.DefaultClient.Do(v2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/v2/ with the token: %d", resp.StatusCode)
	}
	v2.Header.Set("Authorization", "Basic "+"Ym9iOmh1bnRlcjI=") // bob:hunter2 without the token flow
	resp, err = http.DefaultClient.Do(v2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/v2/ with basic credentials instead of a token: %d", resp.StatusCode)
	}

	ref := s.Ref("private/tiny", "v1")
	if _, err := pull(s, ref); err == nil {
		t.Error("anonymous pull succeeded")
	}
	if _, err := pull(s, ref, remote.WithAuth(&authn.Basic{Username: "bob", Password: "hunter2"})); err != nil {
		t.Errorf("pull with credentials: %v", err)
	}
	if n := s.Requests("/token"); n < 4 {
		t.Errorf("token requests counted: %d", n)
	}
}

func TestTLS(t *testing.T) {
	caPEM, serverTLS, err := NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Options{TLS: serverTLS})
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	push(t, s, images.Entry{Repo: "tls/tiny", Tags: []string{"v1"}, Image: tinyImage(t)})

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("bad CA PEM")
	}
	trusting := http.DefaultTransport.(*http.Transport).Clone()
	trusting.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	ref := s.Ref("tls/tiny", "v1")
	if _, err := pull(s, ref, remote.WithTransport(trusting)); err != nil {
		t.Errorf("pull trusting the CA: %v", err)
	}
	if _, err := pull(s, ref); err == nil {
		t.Error("pull without trusting the CA succeeded")
	}
}

func TestStartRejectsTwoAuthModes(t *testing.T) {
	c := &Credentials{Username: "a", Password: "b"}
	if s, err := Start(Options{BasicAuth: c, TokenAuth: c}); err == nil {
		s.Close()
		t.Fatal("Start accepted both BasicAuth and TokenAuth")
	}
}
