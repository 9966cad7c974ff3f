// SPDX-License-Identifier: Apache-2.0

// Package sdnotify speaks systemd's service notification protocol
// (sd_notify(3)) for a Type=notify unit: one datagram of newline-separated
// VAR=value assignments ("READY=1", "STOPPING=1", "STATUS=...") sent to
// the unix socket named by $NOTIFY_SOCKET. It is small enough to own rather
// than import.
package sdnotify

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// Notifier sends to one service manager socket. The zero value (no
// socket: not started by systemd) sends nothing and reports no error.
type Notifier struct {
	addr string
}

// FromEnv takes the socket from $NOTIFY_SOCKET and removes the variable
// from the environment, so that the processes the daemon starts (pod
// monitors, runc, CNI plugins) do not inherit it and cannot speak for the
// service.
func FromEnv() Notifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	os.Unsetenv("NOTIFY_SOCKET")
	return Notifier{addr: addr}
}

// Enabled tells whether a service manager listens.
func (n Notifier) Enabled() bool { return n.addr != "" }

// Notify sends the assignments as one datagram.
func (n Notifier) Notify(assignments ...string) error {
	if n.addr == "" {
		return nil
	}
	addr := n.addr
	switch {
	case strings.HasPrefix(addr, "@"):
		// An abstract socket: the name starts with a NUL byte, which Go
		// writes as a leading "@" too.
	case strings.HasPrefix(addr, "/"):
	default:
		// vsock: addresses are not supported; say so rather than guess.
		return fmt.Errorf("NOTIFY_SOCKET %q: only unix socket paths and abstract names are supported", addr)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify service manager at %s: %w", addr, err)
	}
	defer conn.Close()
	msg := strings.Join(assignments, "\n")
	if _, err := conn.Write([]byte(msg)); err != nil {
		return fmt.Errorf("notify service manager at %s: %w", addr, err)
	}
	return nil
}
