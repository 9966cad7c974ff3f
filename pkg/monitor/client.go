// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Client is the daemon's handle on one pod's monitor. It holds no
// connection: each call dials the socket, so a client is safe for
// concurrent use, a long Wait never blocks other calls, and a daemon that
// dies mid-call leaves nothing for the monitor to clean up.
type Client struct {
	dir    string
	sock   string
	pid    int
	exited chan struct{} // closed when a monitor this client started is reaped
	closed atomic.Bool
}

// Connect reaches the monitor already running for dir, after a daemon
// restart. The error wraps ErrNoMonitor if none answers: the caller then
// reads what was recorded with ReadExit.
func Connect(ctx context.Context, dir string) (*Client, error) {
	c := &Client{dir: dir, sock: filepath.Join(dir, socketName)}
	var resp response
	if err := c.do(ctx, request{Op: opPing}, &resp); err != nil {
		return nil, fmt.Errorf("connect to monitor in %s: %w", dir, err)
	}
	c.pid = resp.Pid
	return c, nil
}

// Close releases the client. The monitor and its containers go on.
func (c *Client) Close() error {
	c.closed.Store(true)
	return nil
}

// Pid is the monitor's process id.
func (c *Client) Pid() int { return c.pid }

// Dir is the monitor's directory.
func (c *Client) Dir() string { return c.dir }

// Exited is closed when the monitor exits, if this client started it
// (it is nil after Connect: only a parent can reap the monitor).
func (c *Client) Exited() <-chan struct{} { return c.exited }

// do makes one call and turns a reported failure into an error.
func (c *Client) do(ctx context.Context, req request, resp *response) error {
	if c.closed.Load() {
		return errors.New("monitor client is closed")
	}
	if err := call(ctx, c.sock, req, resp); err != nil {
		return fmt.Errorf("monitor %s: %w", req.Op, err)
	}
	if err := resp.err(); err != nil {
		return fmt.Errorf("monitor %s: %w", req.Op, err)
	}
	return nil
}

// CreateRequest describes a container to create from a bundle whose
// config.json the caller wrote.
type CreateRequest struct {
	ID, Bundle string
	// LogPath is the CRI log file; its directory must exist. Empty drops
	// the output.
	LogPath string
	// LogDir and LogRel, when set, name the same file as the pod's log
	// directory and the log's path under it: the monitor then opens and
	// reopens the log through a handle on LogDir, following no symlink
	// under it. LogPath is still sent, for a monitor older than this.
	LogDir, LogRel string
	// Tty gives the container a terminal, whose output is logged as
	// stdout. Stdin keeps a stdin open for the container (else /dev/null).
	Tty, Stdin, StdinOnce bool
}

// Create runs `runc create` with stdio the monitor holds, and returns the
// pid of the container's init.
func (c *Client) Create(ctx context.Context, req CreateRequest) (int, error) {
	var resp response
	err := c.do(ctx, request{
		Op: opCreate, ID: req.ID, Bundle: req.Bundle, LogPath: req.LogPath, LogDir: req.LogDir, LogRel: req.LogRel,
		Tty: req.Tty, Stdin: req.Stdin, StdinOnce: req.StdinOnce,
	}, &resp)
	return resp.Pid, err
}

// Start starts a created container and returns when it started.
func (c *Client) Start(ctx context.Context, id string) (time.Time, error) {
	var resp response
	err := c.do(ctx, request{Op: opStart, ID: id}, &resp)
	return resp.Time, err
}

// Kill signals the container's init, or with all every process in it.
// Killing a container that already exited succeeds.
func (c *Client) Kill(ctx context.Context, id string, sig syscall.Signal, all bool) error {
	var resp response
	return c.do(ctx, request{Op: opKill, ID: id, Signal: int(sig), All: all}, &resp)
}

// State returns what the monitor knows of the container.
func (c *Client) State(ctx context.Context, id string) (State, error) {
	var resp response
	if err := c.do(ctx, request{Op: opState, ID: id}, &resp); err != nil {
		return State{}, err
	}
	return *resp.State, nil
}

// Wait returns once the container's exit is recorded, or when ctx ends.
func (c *Client) Wait(ctx context.Context, id string) (State, error) {
	var resp response
	if err := c.do(ctx, request{Op: opWait, ID: id}, &resp); err != nil {
		return State{}, err
	}
	return *resp.State, nil
}

// Delete kills the container if it runs, deletes it from runc, closes its
// stdio and log and removes its records. Deleting an unknown container
// succeeds.
func (c *Client) Delete(ctx context.Context, id string) error {
	var resp response
	return c.do(ctx, request{Op: opDelete, ID: id}, &resp)
}

// ExecResult is the outcome of ExecSync.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int
}

// ExecSync runs process in the container and returns its output, each
// stream capped at maxOutput bytes (16 MiB if not positive; the rest is
// read and dropped). The monitor streams the output rather than holding
// it, so its own memory does not grow with it. After timeout (none if not positive) the process and
// all it forked are killed and the error satisfies
// errors.Is(err, context.DeadlineExceeded).
func (c *Client) ExecSync(ctx context.Context, id string, process specs.Process, timeout time.Duration, maxOutput int) (ExecResult, error) {
	raw, err := json.Marshal(process)
	if err != nil {
		return ExecResult{}, fmt.Errorf("encode process: %w", err)
	}
	if c.closed.Load() {
		return ExecResult{}, errors.New("monitor client is closed")
	}
	var resp response
	req := request{Op: opExec, ID: id, Process: raw, Timeout: timeout, MaxOutput: maxOutput}
	stdout, stderr, err := callExec(ctx, c.sock, req, &resp)
	if err == nil {
		err = resp.err()
	}
	if err != nil {
		return ExecResult{}, fmt.Errorf("monitor exec: %w", err)
	}
	return ExecResult{Stdout: stdout, Stderr: stderr, ExitCode: resp.ExitCode}, nil
}

// ReopenLog closes the container's log file and opens its path anew, for
// the kubelet's log rotation. The container must be running.
func (c *Client) ReopenLog(ctx context.Context, id string) error {
	var resp response
	return c.do(ctx, request{Op: opReopen, ID: id}, &resp)
}

// Shutdown tells the monitor its pod is gone: it takes no new container,
// deletes containers as they exit (keeping their records) and exits when
// none is left. Shutdown returns once the monitor is exiting; if ctx ends
// first, the request stands and the monitor exits later.
func (c *Client) Shutdown(ctx context.Context) error {
	var resp response
	err := c.do(ctx, request{Op: opShutdown}, &resp)
	if errors.Is(err, ErrNoMonitor) {
		return nil // already gone
	}
	return err
}
