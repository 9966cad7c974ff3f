// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"
)

// child is a process the bench started and must end itself.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // Wait's result, once done is closed
}

// startChild runs a program with its output in a log file. Its own process
// group keeps a terminal's Ctrl-C away from it: the bench must still be
// able to talk to the daemon to remove pods before stopping it.
func startChild(path, logPath string, args ...string) (*child, error) {
	return startChildEnv(path, logPath, nil, args...)
}

// startChildEnv is startChild with extra environment variables.
func startChildEnv(path, logPath string, extraEnv []string, args ...string) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if len(extraEnv) > 0 {
		cmd.Env = append(os.Environ(), extraEnv...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits; after grace it kills. It only ever signals
// the pid it started, never a group or a name.
func (c *child) stop(grace time.Duration) error {
	if c == nil || c.exited() {
		return nil
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("%s did not stop within %v of SIGTERM; killed", c.cmd.Path, grace)
	}
}

// waitFor polls ok until it holds, the child exits, the limit passes or ctx
// ends. Polling is fine here: this is start-up, not a measured path.
func waitFor(ctx context.Context, limit time.Duration, c *child, ok func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if ok() {
			return nil
		}
		if c.exited() {
			return fmt.Errorf("exited (%v); see its log", c.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dial connects to the CRI socket the way the kubelet does: 16 MiB
// messages each way.
func dial(sock string) (*grpc.ClientConn, error) {
	conn, err := grpc.NewClient("unix://"+sock,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		// Retry a socket not there yet every few ms, not after gRPC's
		// default 1 s backoff: the restart figure is the daemon's time to
		// answer, not the client's wait.
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 5 * time.Millisecond, Multiplier: 1.2, MaxDelay: 20 * time.Millisecond}, MinConnectTimeout: time.Second}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20), grpc.MaxCallSendMsgSize(16<<20)))
	if err != nil {
		return nil, errors.Join(errors.New("dial podshim"), err)
	}
	return conn, nil
}
