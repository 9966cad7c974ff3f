// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// requireBasic makes the registry answer 401 with a Basic challenge to
// requests without user:pass.
func requireBasic(user, pass string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"login"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}
}

func TestBasicAuth(t *testing.T) {
	reg := newTestRegistry(t)
	ref := reg.push("private", "1", simpleImage(t, "private"))
	reg.setMiddleware(requireBasic("alice", "s3cret"))
	s := newTestStore(t, Options{})

	for _, tc := range []struct {
		name string
		auth *Auth
		ok   bool
	}{
		{"anonymous", nil, false},
		{"wrong password", &Auth{Username: "alice", Password: "nope"}, false},
		{"username and password", &Auth{Username: "alice", Password: "s3cret"}, true},
		{"base64 auth", &Auth{Auth: base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))}, true},
		{"server address of this registry", &Auth{Username: "alice", Password: "s3cret", ServerAddress: "http://" + reg.host}, true},
		{"server address of another registry", &Auth{Username: "alice", Password: "s3cret", ServerAddress: "other.example"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Pull(context.Background(), ref, tc.auth)
			if tc.ok && err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("Pull = %v, want ErrUnauthorized", err)
			}
		})
	}
}

// tokenRegistry puts the registry behind the bearer token flow: /token
// trades user:pass for a token at the realm, /v2/ wants the token.
func tokenRegistry(t *testing.T, reg *testRegistry, user, pass, token string) {
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.URL.Path == "/token" {
			if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
				return
			}
			if !strings.Contains(r.URL.Query().Get("scope"), "repository:") {
				http.Error(w, "no scope", http.StatusBadRequest)
				return
			}
			fmt.Fprintf(w, `{"token":%q}`, token)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test",scope="repository:secure:pull"`, reg.host))
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}`, http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestBearerTokenAuth(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "secure")
	ref := reg.push("secure", "1", img)
	tokenRegistry(t, reg, "bob", "pw", "tok-123")
	s := newTestStore(t, Options{})

	if _, err := s.Pull(context.Background(), ref, nil); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("anonymous Pull = %v, want ErrUnauthorized", err)
	}
	if _, err := s.Pull(context.Background(), ref, &Auth{Username: "bob", Password: "wrong"}); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Pull with a wrong password = %v, want ErrUnauthorized", err)
	}
	got, err := s.Pull(context.Background(), ref, &Auth{Username: "bob", Password: "pw"})
	if err != nil || got.ID != img.id() {
		t.Fatalf("Pull with credentials = %s, %v", got.ID, err)
	}
	if _, err := s.Pull(context.Background(), ref, &Auth{RegistryToken: "tok-123"}); err != nil {
		t.Fatalf("Pull with a registry token: %v", err)
	}
}

func TestTLSRegistryWithCAFile(t *testing.T) {
	reg := newTestRegistryWith(t, httptest.NewTLSServer)
	img := simpleImage(t, "tls")
	ref := reg.push("tls", "1", img)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: reg.srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	untrusted := newTestStore(t, Options{})
	if _, err := untrusted.Pull(context.Background(), ref, nil); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Pull without the CA = %v, want ErrUnavailable", err)
	}
	trusted := newTestStore(t, Options{Hosts: map[string]HostConfig{reg.host: {CAFile: caFile}}})
	if got, err := trusted.Pull(context.Background(), ref, nil); err != nil || got.ID != img.id() {
		t.Errorf("Pull with the CA = %s, %v", got.ID, err)
	}
	insecure := newTestStore(t, Options{Hosts: map[string]HostConfig{reg.host: {Insecure: true}}})
	if _, err := insecure.Pull(context.Background(), ref, nil); err != nil {
		t.Errorf("Pull from an insecure host: %v", err)
	}
	if _, err := Open(Options{Root: t.TempDir(), Hosts: map[string]HostConfig{reg.host: {CAFile: filepath.Join(t.TempDir(), "missing.pem")}}}); err == nil {
		t.Errorf("Open with a missing CA file succeeded")
	}
}
