// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// execStopTimeout bounds the wait for runc exec to return once its
// process was killed, before runc itself is killed.
const execStopTimeout = 5 * time.Second

// execFlushTimeout bounds the time to send what is left of an exec's
// output, and its response, once the process is gone.
const execFlushTimeout = 10 * time.Second

// errExecTimeout is returned to the client as a deadline error.
var errExecTimeout = errors.New("exec timed out")

// execSync runs `runc exec` with the process spec the client sent and
// streams its output to out. On timeout, or when the client goes away, the
// process and everything it forked are killed.
func (m *monitor) execSync(ctx context.Context, req request, out *frameWriter) (exitCode int, err error) {
	c, err := m.lookup(req.ID)
	if err != nil {
		return 0, err
	}
	if st := c.snapshot(); st.Status != StatusRunning {
		return 0, fmt.Errorf("exec in %s: container is %s: %w", req.ID, st.Status, ErrNotRunning)
	}
	if len(req.Process) == 0 {
		return 0, errors.New("exec: no process")
	}
	maxOutput := req.MaxOutput
	if maxOutput <= 0 {
		maxOutput = defaultMaxOutput
	}
	base := filepath.Join(c.dir, "exec-"+strconv.FormatUint(m.runc.seq.Add(1), 10))
	procPath, pidPath := base+".json", base+".pid"
	defer os.Remove(procPath)
	defer os.Remove(pidPath)
	if err := os.WriteFile(procPath, req.Process, 0o600); err != nil {
		return 0, fmt.Errorf("exec: write process: %w", err)
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("exec: stdout pipe: %w", err)
	}
	defer outR.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		outW.Close()
		return 0, fmt.Errorf("exec: stderr pipe: %w", err)
	}
	defer errR.Close()
	outDone, errDone := make(chan struct{}), make(chan struct{})
	go forward(outR, frameStdout, maxOutput, out, outDone)
	go forward(errR, frameStderr, maxOutput, out, errDone)

	call := m.runc.command(c.dir, "exec", "--process", procPath, "--pid-file", pidPath, req.ID)
	defer os.Remove(call.logPath)
	call.cmd.Stdout, call.cmd.Stderr = outW, errW
	exits, err := m.runc.reaper.start(call.cmd)
	outW.Close()
	errW.Close()
	if err != nil {
		return 0, fmt.Errorf("exec: start runc: %w", err)
	}
	defer call.cmd.Process.Release()

	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var e exitStatus
	var stopErr error
	select {
	case e = <-exits:
	case <-timeout:
		stopErr = fmt.Errorf("exec in %s: %w after %v", req.ID, errExecTimeout, req.Timeout)
	case <-ctx.Done():
		stopErr = fmt.Errorf("exec in %s: %w", req.ID, ctx.Err())
	}
	if stopErr != nil {
		stopExec(call, pidPath, exits)
	}
	out.expire(execFlushTimeout)

	// Output a forked process still holds is not waited for long.
	for _, done := range []chan struct{}{outDone, errDone} {
		select {
		case <-done:
		case <-time.After(ioDrainTimeout):
			outR.Close()
			errR.Close()
			<-done
		}
	}
	if stopErr != nil {
		return 0, stopErr
	}
	// runc exits with its process's status; only a logged error means
	// runc itself failed (no such command, container gone).
	var re *runcError
	if err := call.result(e); errors.As(err, &re) && re.msg != "" {
		// A container that stopped since the check above makes runc
		// refuse; the caller is told it is not running.
		if st := c.snapshot(); st.Status != StatusRunning {
			return 0, fmt.Errorf("runc exec in %s: container is %s: %w: %w", req.ID, st.Status, ErrNotRunning, err)
		}
		return 0, fmt.Errorf("runc exec in %s: %w", req.ID, err)
	}
	return e.code(), nil
}

// stopExec kills the exec'd process tree, or runc itself if it had not
// started the process yet, and waits for runc to return.
func stopExec(call *runcCall, pidPath string, exits <-chan exitStatus) {
	if pid, err := readPid(pidPath); err == nil {
		killTree(pid)
	} else {
		call.cmd.Process.Kill()
	}
	t := time.NewTimer(execStopTimeout)
	defer t.Stop()
	select {
	case <-exits:
		return
	case <-t.C:
	}
	call.cmd.Process.Kill()
	<-exits
}
