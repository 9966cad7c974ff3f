// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// consoleReceiver takes the terminal master that runc sends over its
// --console-socket when a container has a tty.
type consoleReceiver struct {
	path   string
	tmpDir string
	l      *net.UnixListener
}

func newConsoleReceiver(containerDir string) (*consoleReceiver, error) {
	dir, temporary, err := consoleSocketDir(containerDir)
	if err != nil {
		return nil, err
	}
	c := &consoleReceiver{path: filepath.Join(dir, "console.sock")}
	if temporary {
		c.tmpDir = dir
	}
	os.Remove(c.path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: c.path, Net: "unix"})
	if err != nil {
		c.close()
		return nil, fmt.Errorf("console socket: %w", err)
	}
	c.l = l
	return c, nil
}

// receive returns the master, once runc create has succeeded: by then runc
// has connected and sent it, so nothing here waits on runc; the deadline
// only guards against a runc that broke its protocol.
func (c *consoleReceiver) receive() (*os.File, error) {
	deadline := time.Now().Add(5 * time.Second)
	c.l.SetDeadline(deadline)
	conn, err := c.l.AcceptUnix()
	if err != nil {
		return nil, fmt.Errorf("accept console: %w", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(deadline)
	oob := make([]byte, syscall.CmsgSpace(4))
	name := make([]byte, 256)
	n, oobn, _, _, err := conn.ReadMsgUnix(name, oob)
	if err != nil {
		return nil, fmt.Errorf("receive console: %w", err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive console: bad control message (%v)", err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return nil, fmt.Errorf("receive console: expected one descriptor (%v)", err)
	}
	syscall.CloseOnExec(fds[0])
	// Non-blocking, so the runtime poller serves its reads and a close
	// interrupts them, instead of each read pinning an OS thread.
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		syscall.Close(fds[0])
		return nil, fmt.Errorf("console: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}

// close removes the socket and any temporary directory.
func (c *consoleReceiver) close() {
	if c.l != nil {
		c.l.Close()
	}
	os.Remove(c.path)
	if c.tmpDir != "" {
		os.RemoveAll(c.tmpDir)
	}
}
