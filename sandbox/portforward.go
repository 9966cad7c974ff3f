// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// PortForward connects stream to port on the pod's own loopback, as
// `kubectl port-forward` expects: the connection is made from inside the
// pod's network namespace, so a server bound to 127.0.0.1 there is reached
// and nothing on the host is.
func (m *Manager) PortForward(ctx context.Context, id string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	r, err := m.store.Get(id)
	if err != nil {
		return err
	}
	if !m.Ready(r) {
		return fmt.Errorf("port-forward to pod %s: pod is not ready", r.ID)
	}
	if port <= 0 || port > 65535 {
		return fmt.Errorf("port-forward to pod %s: invalid port %d", r.ID, port)
	}
	conn, err := dialInNetns(ctx, r.NetNSPath, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("port-forward to pod %s port %d: %w", r.ID, port, err)
	}
	defer conn.Close()
	// Copy both ways; either side closing ends the forward.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	_, err = io.Copy(stream, conn)
	stream.Close()
	wg.Wait()
	if err != nil {
		return fmt.Errorf("port-forward to pod %s port %d: %w", r.ID, port, err)
	}
	return nil
}

// dialInNetns opens a TCP connection from inside a network namespace
// ("" = the host's). The socket keeps its namespace after the thread
// switches back; a thread that cannot switch back is never reused.
func dialInNetns(ctx context.Context, netnsPath, addr string) (net.Conn, error) {
	if netnsPath == "" {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		host, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer unix.Close(host)
		target, err := unix.Open(netnsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			done <- result{err: err}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if unix.Setns(host, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{conn, err}
	}()
	res := <-done
	return res.conn, res.err
}
