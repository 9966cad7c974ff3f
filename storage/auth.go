// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// authenticator turns the CRI credential into what ggcr's transport uses:
// Basic auth for registries that ask for it, and the input of the bearer
// token flow (username/password, identity token, or a ready token) for the
// others. The base64 "auth" form is decoded here because ggcr would only
// pass it through as a Basic header, which the token flow cannot use.
func (a *Auth) authenticator() (authn.Authenticator, error) {
	if a == nil {
		return authn.Anonymous, nil
	}
	cfg := authn.AuthConfig{
		Username:      a.Username,
		Password:      a.Password,
		IdentityToken: a.IdentityToken,
		RegistryToken: a.RegistryToken,
	}
	if a.Auth != "" && a.Username == "" && a.Password == "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(a.Auth))
		if err != nil {
			return nil, fmt.Errorf("credential: auth is not base64: %w", ErrUnauthorized)
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, fmt.Errorf("credential: auth is not user:password: %w", ErrUnauthorized)
		}
		cfg.Username, cfg.Password = user, pass
	}
	if cfg == (authn.AuthConfig{}) {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(cfg), nil
}

// appliesTo reports whether the credential may be sent to host. A
// credential naming a server goes only there: Docker Hub credentials must
// not reach a mirror on another host.
func (a *Auth) appliesTo(host string) bool {
	if a == nil || a.ServerAddress == "" {
		return true
	}
	return canonicalHost(serverHost(a.ServerAddress)) == canonicalHost(host)
}

// serverHost extracts host[:port] from the forms a ServerAddress takes:
// "registry.example", "registry.example:5000",
// "https://index.docker.io/v1/".
func serverHost(addr string) string {
	if strings.Contains(addr, "://") {
		if u, err := url.Parse(addr); err == nil {
			return u.Host
		}
	}
	host, _, _ := strings.Cut(addr, "/")
	return host
}

// fingerprint distinguishes credentials without revealing them, so that
// concurrent pulls share a download only when they present the same one.
func (a *Auth) fingerprint() string {
	if a == nil {
		return ""
	}
	raw, _ := json.Marshal(a)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
