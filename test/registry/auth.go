// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// authenticate wraps the registry with the configured authentication.
func (s *Server) authenticate(next http.Handler) http.Handler {
	switch {
	case s.opts.BasicAuth != nil:
		return s.basicAuth(next)
	case s.opts.TokenAuth != nil:
		return s.tokenAuth(next)
	default:
		return next
	}
}

// basicAuth demands the configured credentials on every request.
func (s *Server) basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !validBasic(r, s.opts.BasicAuth) {
			w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", service))
			unauthorized(w, "basic credentials required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenAuth implements the Docker token flow with the token endpoint on
// this same server: /token swaps credentials for the server's one opaque
// token, and /v2/ accepts only that token.
func (s *Server) tokenAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			s.issueToken(w, r)
			return
		}
		want := "Bearer " + s.token
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			challenge := fmt.Sprintf("Bearer realm=%q,service=%q", s.URL()+"/token", service)
			if scope := scopeOf(r); scope != "" {
				challenge += fmt.Sprintf(",scope=%q", scope)
			}
			w.Header().Set("WWW-Authenticate", challenge)
			unauthorized(w, "bearer token required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// issueToken answers the token endpoint. It takes the credentials the way
// clients send them: basic auth on a GET (go-containerregistry, Docker) or
// an OAuth2 password grant POSTed as a form (containerd with credentials).
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	ok := false
	switch r.Method {
	case http.MethodGet:
		ok = validBasic(r, s.opts.TokenAuth)
	case http.MethodPost:
		if err := r.ParseForm(); err == nil && r.PostForm.Get("grant_type") == "password" {
			ok = equal(r.PostForm.Get("username"), s.opts.TokenAuth.Username) &&
				equal(r.PostForm.Get("password"), s.opts.TokenAuth.Password)
		} else {
			ok = validBasic(r, s.opts.TokenAuth)
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", service+"-token"))
		unauthorized(w, "valid credentials required for a token")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token":        s.token,
		"access_token": s.token,
		"expires_in":   3600,
		"issued_at":    time.Now().UTC().Format(time.RFC3339),
	})
}

// repoPath extracts the repository from distribution API paths such as
// /v2/<name>/manifests/<ref> or /v2/<name>/blobs/uploads/.
var repoPath = regexp.MustCompile(`^/v2/(.+?)/(?:manifests|blobs|tags|referrers)/`)

// scopeOf is the token scope a request needs, as registries advertise it.
func scopeOf(r *http.Request) string {
	m := repoPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		return ""
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return "repository:" + m[1] + ":pull"
	}
	return "repository:" + m[1] + ":pull,push"
}

func validBasic(r *http.Request, c *Credentials) bool {
	user, pass, ok := r.BasicAuth()
	return ok && equal(user, c.Username) && equal(pass, c.Password)
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// unauthorized writes a distribution-spec error body.
func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": msg}},
	})
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("registry: generate token: %w", err)
	}
	return hex.EncodeToString(b), nil
}
