// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"net/url"
	"strings"
)

// endpoint is one place a repository can be pulled from: a mirror or the
// registry itself.
type endpoint struct {
	host string // host[:port]
	// scheme is "http" or "https" for a mirror, whose configured URL
	// decides it; "" for the registry itself, where ggcr decides
	// (https, with plain HTTP allowed for loopback and insecure hosts).
	scheme   string
	insecure bool
	mirror   bool
}

func (e endpoint) String() string {
	if e.mirror {
		return "mirror " + e.scheme + "://" + e.host
	}
	return e.host
}

// Docker Hub goes by several names; references and configuration use
// "docker.io".
func canonicalHost(host string) string {
	host = strings.ToLower(host)
	switch host {
	case "index.docker.io", "registry-1.docker.io":
		return "docker.io"
	}
	return host
}

// parseMirrors turns the configured mirror URLs into endpoints, keyed by
// the canonical registry host they stand in for.
func parseMirrors(mirrors map[string][]string, hosts map[string]HostConfig) (map[string][]endpoint, error) {
	out := make(map[string][]endpoint, len(mirrors))
	for registry, urls := range mirrors {
		key := canonicalHost(registry)
		for _, raw := range urls {
			ep, err := parseMirror(raw, hosts)
			if err != nil {
				return nil, fmt.Errorf("mirror %q of %s: %w", raw, registry, err)
			}
			out[key] = append(out[key], ep)
		}
	}
	return out, nil
}

func parseMirror(raw string, hosts map[string]HostConfig) (endpoint, error) {
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return endpoint{}, fmt.Errorf("scheme %q is neither http nor https", u.Scheme)
	}
	if u.Host == "" {
		return endpoint{}, fmt.Errorf("no host")
	}
	if p := strings.TrimSuffix(u.Path, "/"); p != "" && p != "/v2" {
		// The distribution API lives at /v2/ on the host; a path prefix
		// would need rewriting that no mirror here needs.
		return endpoint{}, fmt.Errorf("path %q is not supported; give the host only", u.Path)
	}
	hc, _ := hostConfig(hosts, u.Host)
	return endpoint{host: u.Host, scheme: u.Scheme, insecure: u.Scheme == "http" || hc.Insecure, mirror: true}, nil
}

// endpointsFor lists where to pull a repository of registry host from: its
// mirrors in order, then the registry itself.
func (s *Store) endpointsFor(host string) []endpoint {
	eps := append([]endpoint(nil), s.mirrors[canonicalHost(host)]...)
	hc, _ := hostConfig(s.opts.Hosts, host)
	return append(eps, endpoint{host: host, insecure: hc.Insecure})
}

// hostConfig finds the settings for host: by host[:port] as given, then
// by its canonical name (docker.io for Docker Hub's aliases).
func hostConfig(hosts map[string]HostConfig, host string) (HostConfig, bool) {
	if hc, ok := hosts[host]; ok {
		return hc, true
	}
	for k, hc := range hosts {
		if canonicalHost(k) == canonicalHost(host) {
			return hc, true
		}
	}
	return HostConfig{}, false
}
