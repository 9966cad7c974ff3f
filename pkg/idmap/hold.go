// SPDX-License-Identifier: Apache-2.0

package idmap

import (
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Userns is a user namespace held open by a helper process made for it,
// for idmapping when no process of a pod has one yet (the node's probes).
type Userns struct {
	Fd    int
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// Hold starts argv (a command that blocks until its stdin closes) in a new
// user namespace mapping hostID..hostID+size-1 to 0..size-1 for both users
// and groups, and opens that namespace.
func Hold(argv []string, hostID, size int) (*Userns, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("no command to hold a user namespace with")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: size}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: hostID, Size: size}},
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start a process in a new user namespace: %w", err)
	}
	u := &Userns{Fd: -1, cmd: cmd, stdin: stdin}
	fd, err := OpenUserns(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid))
	if err != nil {
		u.Close()
		return nil, err
	}
	u.Fd = fd
	return u, nil
}

// Close lets the helper go and closes the namespace.
func (u *Userns) Close() {
	if u.Fd >= 0 {
		unix.Close(u.Fd)
	}
	u.stdin.Close()
	u.cmd.Wait()
}
