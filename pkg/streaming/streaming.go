// SPDX-License-Identifier: Apache-2.0

// Package streaming serves the CRI's exec, attach and port-forward
// streams over HTTP with k8s.io/cri-streaming, the server containerd and
// CRI-O share: the Exec, Attach and PortForward RPCs hand out a one-time
// URL on it, and the kubelet (or crictl) connects there.
package streaming

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	criserver "k8s.io/cri-streaming/pkg/streaming"
	remotecommand "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	"k8s.io/klog/v2"
)

// Backend is what the streams reach: containers and pods.
type Backend interface {
	Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) error
	Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) error
	PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error
}

// Server is the running stream server.
type Server struct {
	criserver.Server
	http *http.Server
}

// Start listens on addr ("127.0.0.1:0" picks a free port: only this node
// needs to reach it, and the kubelet proxies it) and serves in the
// background. The URLs handed out name the address actually bound.
func Start(addr string, backend Backend) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("stream server: listen %s: %w", addr, err)
	}
	cfg := criserver.DefaultConfig
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: ln.Addr().String()}
	srv, err := criserver.NewServer(cfg, runtime{backend})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("stream server: %w", err)
	}
	s := &Server{Server: srv, http: &http.Server{Handler: srv}}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.Errorf("stream server: %v", err)
		}
	}()
	klog.Infof("stream server on %s", cfg.BaseURL)
	return s, nil
}

// Close stops serving and ends open streams.
func (s *Server) Close() error { return s.http.Close() }

// runtime adapts the backend to cri-streaming's Runtime.
type runtime struct{ b Backend }

func (r runtime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return r.b.Exec(ctx, id, cmd, in, writerOrDiscard(out), writerOrDiscard(errw), tty, resize)
}

func (r runtime) Attach(ctx context.Context, id string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return r.b.Attach(ctx, id, in, writerOrDiscard(out), writerOrDiscard(errw), tty, resize)
}

func (r runtime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	return r.b.PortForward(ctx, podID, port, stream)
}

// writerOrDiscard turns an absent stream (nil interface holding nil) into
// one that discards, so callers never write to nil.
func writerOrDiscard(w io.WriteCloser) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
