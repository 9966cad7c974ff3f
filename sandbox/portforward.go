// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// PortForward connects stream to port in the pod, as `kubectl
// port-forward` expects: the connection is made from inside the pod's
// network namespace, to the first of 127.0.0.1, ::1 and the pod's own IPs
// where something listens, so a server bound to any of them is reached
// (one bound to "localhost" is often on ::1 alone) and nothing on the host
// is.
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
	conn, err := dialInNetns(ctx, r.NetNSPath, forwardTargets(r, port))
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

// forwardTargets are the addresses a forward to port tries, in order: the
// pod's loopback, IPv4 first as before, then its own IPs. A host-network
// pod has no IPs of its own: its loopback is the node's.
func forwardTargets(r *Record, port int32) []string {
	p := strconv.Itoa(int(port))
	addrs := []string{net.JoinHostPort("127.0.0.1", p), net.JoinHostPort("::1", p)}
	if r.NetNSPath != "" {
		for _, ip := range r.IPs {
			if net.ParseIP(ip) != nil {
				addrs = append(addrs, net.JoinHostPort(ip, p))
			}
		}
	}
	return addrs
}

// forwardDialTimeout bounds each connect attempt, so that one address
// dropping packets cannot hold up the next.
const forwardDialTimeout = 5 * time.Second

// dialFirst connects to the first of addrs that accepts, one at a time:
// Go's parallel dialing would open sockets from other threads, outside
// the namespace this one is in. The error names every attempt.
func dialFirst(ctx context.Context, addrs []string) (net.Conn, error) {
	d := net.Dialer{Timeout: forwardDialTimeout}
	var errs []error
	for _, a := range addrs {
		conn, err := d.DialContext(ctx, "tcp", a)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// dialInNetns opens a TCP connection to the first of addrs that accepts,
// from inside a network namespace ("" = the host's). The socket keeps its
// namespace after the thread switches back; a thread that cannot switch
// back is never reused.
func dialInNetns(ctx context.Context, netnsPath string, addrs []string) (net.Conn, error) {
	if netnsPath == "" {
		return dialFirst(ctx, addrs)
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
		conn, err := dialFirst(ctx, addrs)
		if unix.Setns(host, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{conn, err}
	}()
	res := <-done
	return res.conn, res.err
}
