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
	"os"

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
	s := &Server{Server: srv, http: &http.Server{Handler: srv, ConnContext: hangupContext}}
	go func() {
		if err := s.http.Serve(hangupListener{ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.Errorf("stream server: %v", err)
		}
	}()
	klog.Infof("stream server on %s", cfg.BaseURL)
	return s, nil
}

// Close stops serving and ends open streams.
func (s *Server) Close() error { return s.http.Close() }

// hangupListener's connections notice when their peer goes away. net/http
// stops watching a connection once a handler hijacks it, as every exec,
// attach and port-forward stream does, so the request's context would
// never end when the client (the kubelet, crictl) disconnects; yet
// cri-streaming hands that context to Exec and Attach, which stop the
// command and let go of the container when it ends.
type hangupListener struct{ net.Listener }

func (l hangupListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &hangupConn{Conn: c, gone: ctx, hangup: cancel}, nil
}

// hangupConn ends gone when a read fails for any reason but a deadline
// (net/http interrupts its own background reads with one) or when the
// connection is closed.
type hangupConn struct {
	net.Conn
	gone   context.Context
	hangup context.CancelFunc
}

func (c *hangupConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.hangup()
	}
	return n, err
}

func (c *hangupConn) Close() error {
	c.hangup()
	return c.Conn.Close()
}

// hangupContext is the base context of every request on a connection: it
// ends with the connection.
func hangupContext(ctx context.Context, c net.Conn) context.Context {
	hc, ok := c.(*hangupConn)
	if !ok {
		return ctx
	}
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(hc.gone, cancel)
	return ctx
}

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
