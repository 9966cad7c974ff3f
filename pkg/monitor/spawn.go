// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// StartOptions says how to start a pod's monitor.
type StartOptions struct {
	// Self is the podshim binary; it is run as `Self monitor ...`.
	Self string
	// Dir is the pod's monitor directory (created if missing).
	Dir string
	// Runc is the runc binary and RuncRoot its state root.
	Runc, RuncRoot string
	// SystemdCgroup passes --systemd-cgroup to runc.
	SystemdCgroup bool
}

// Start starts the monitor for a pod, detached from the caller: its own
// session, stdin and stdout on /dev/null, stderr on Dir/monitor.log. It
// returns once the monitor listens. If a monitor already answers in Dir,
// Start connects to it instead, so a daemon that crashed mid-start can
// simply start again.
//
// The caller stays the monitor's parent while it lives and reaps it from
// a goroutine (see Exited); a daemon that also reaps with wait4(-1) must
// leave this pid to exec.Cmd.
func Start(ctx context.Context, opts StartOptions) (*Client, error) {
	if opts.Self == "" || opts.Dir == "" {
		return nil, errors.New("start monitor: Self and Dir are required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	if c, err := Connect(ctx, dir); err == nil {
		return c, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	logPath := filepath.Join(dir, "monitor.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	defer readyR.Close()

	args := []string{"monitor", "--dir", dir, "--runc", opts.Runc, "--runc-root", opts.RuncRoot, "--ready-fd", "3"}
	if opts.SystemdCgroup {
		args = append(args, "--systemd-cgroup")
	}
	cmd := exec.Command(opts.Self, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	c := &Client{dir: dir, sock: filepath.Join(dir, socketName), pid: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(c.exited)
	}()

	// The monitor writes "ready" once it listens, or why it failed; EOF
	// without either means it died.
	msg := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(readyR, 4096))
		msg <- b
	}()
	select {
	case b := <-msg:
		if bytes.HasPrefix(b, []byte("ready")) {
			return c, nil
		}
		<-c.exited
		return nil, fmt.Errorf("start monitor in %s: %s", dir, failure(b, logPath))
	case <-ctx.Done():
		// It has no container yet: nothing is lost by stopping it.
		cmd.Process.Kill()
		<-c.exited
		return nil, fmt.Errorf("start monitor in %s: %w", dir, ctx.Err())
	}
}

// failure explains a monitor that did not come up: its own message, else
// the end of its log.
func failure(msg []byte, logPath string) string {
	if s := strings.TrimSpace(strings.TrimPrefix(string(msg), "error: ")); s != "" {
		return s
	}
	data, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if last := lines[len(lines)-1]; last != "" {
		return "exited: " + last
	}
	return "exited without a word"
}
