// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"
)

// Server serves /metrics over HTTP.
type Server struct {
	srv  *http.Server
	addr net.Addr
}

// Serve registers every metric, the states collector, and Go and process
// metrics into a fresh registry, and serves them at http://addr/metrics.
// Each call uses its own registry, so the package's metrics may be served
// by several daemons in one test binary.
func Serve(addr string, states States) (*Server, error) {
	reg := prometheus.NewRegistry()
	cs := append(all(), statesCollector{states},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: klogErrors{}}))
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, addr: ln.Addr()}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.Errorf("metrics server on %s: %v", s.addr, err)
		}
	}()
	return s, nil
}

// Addr is the address served (the port chosen when addr had port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// Close stops serving, leaving a scrape in flight a moment to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return s.srv.Shutdown(ctx)
}

type klogErrors struct{}

func (klogErrors) Println(v ...any) { klog.ErrorDepth(1, append([]any{"metrics: "}, v...)...) }
