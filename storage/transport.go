// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
)

// hostTransport is the bottom of every pull's HTTP stack. It sends each
// request with the TLS settings of its host (system CAs plus the host's
// CAFile, or no verification for insecure hosts) and, for mirror hosts,
// with the scheme the mirror's URL names, whatever ggcr guessed. Plain
// HTTP goes only to loopback, to insecure hosts and to http:// mirrors.
type hostTransport struct {
	hosts   map[string]HostConfig
	schemes map[string]string // mirror host -> scheme

	mu         sync.Mutex
	transports map[string]*http.Transport // by HostConfig, built on first use
	base       *http.Transport
}

func newHostTransport(hosts map[string]HostConfig, mirrors map[string][]endpoint) (*hostTransport, error) {
	t := &hostTransport{
		hosts:      hosts,
		schemes:    map[string]string{},
		transports: map[string]*http.Transport{},
		base:       http.DefaultTransport.(*http.Transport).Clone(),
	}
	for _, list := range mirrors {
		for _, ep := range list {
			t.schemes[ep.host] = ep.scheme
		}
	}
	// Check every CA file now, so a typo fails at start-up rather than at
	// the first pull from that host.
	for host, hc := range hosts {
		if _, err := t.transportFor(hc); err != nil {
			return nil, fmt.Errorf("host %s: %w", host, err)
		}
	}
	return t, nil
}

func (t *hostTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if scheme, ok := t.schemes[req.URL.Host]; ok && req.URL.Scheme != scheme {
		// A RoundTripper must not change the caller's request.
		r := *req
		u := *req.URL
		u.Scheme = scheme
		r.URL = &u
		req = &r
	}
	hc, ok := hostConfig(t.hosts, req.URL.Host)
	if req.URL.Scheme == "http" && !hc.Insecure && t.schemes[req.URL.Host] != "http" && !isLoopback(req.URL.Hostname()) {
		// ggcr falls back to plain HTTP for private addresses too; here
		// only loopback, insecure hosts and http:// mirrors get it, so a
		// network attacker cannot downgrade a pull by blocking TLS.
		return nil, fmt.Errorf("plain HTTP to %s is not allowed: the host is not loopback and not configured insecure", req.URL.Host)
	}
	if !ok {
		return t.base.RoundTrip(req)
	}
	tr, err := t.transportFor(hc)
	if err != nil {
		return nil, err
	}
	return tr.RoundTrip(req)
}

// transportFor returns the shared transport for one host configuration,
// so connections are reused across pulls.
func (t *hostTransport) transportFor(hc HostConfig) (*http.Transport, error) {
	key := fmt.Sprintf("%t\x00%s", hc.Insecure, hc.CAFile)
	t.mu.Lock()
	defer t.mu.Unlock()
	if tr, ok := t.transports[key]; ok {
		return tr, nil
	}
	cfg, err := tlsConfig(hc)
	if err != nil {
		return nil, err
	}
	tr := t.base.Clone()
	tr.TLSClientConfig = cfg
	t.transports[key] = tr
	return tr, nil
}

func tlsConfig(hc HostConfig) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: hc.Insecure} //nolint:gosec // only for hosts configured insecure
	if hc.CAFile == "" {
		return cfg, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(hc.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", hc.CAFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
