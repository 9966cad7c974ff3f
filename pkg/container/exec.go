// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podshim/podshim/pkg/monitor"
)

// MaxExecOutput caps what ExecSync keeps of each stream, so a command that
// floods its output cannot exhaust the monitor's or the daemon's memory.
// Both streams together stay under the 16 MiB the kubelet and crictl
// accept in one message.
const MaxExecOutput = 7 << 20

// ErrNotRunning marks a request that needs a running container.
var ErrNotRunning = errors.New("container is not running")

// ExecSync runs cmd in the container like its own process (user, env,
// capabilities, working dir) and returns its output and exit code. A
// timeout of 0 means none.
func (m *Manager) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (monitor.ExecResult, error) {
	if len(cmd) == 0 {
		return monitor.ExecResult{}, fmt.Errorf("%w: exec command is empty", ErrInvalid)
	}
	r, err := m.running(ctx, id)
	if err != nil {
		return monitor.ExecResult{}, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(r.Spec, &spec); err != nil || spec.Process == nil {
		return monitor.ExecResult{}, fmt.Errorf("exec in %s: spec: %v", r.ID, err)
	}
	p := *spec.Process
	p.Args = cmd
	p.Terminal = false
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err != nil {
		return monitor.ExecResult{}, fmt.Errorf("exec in %s: %w", r.ID, err)
	}
	res, err := mon.ExecSync(ctx, r.ID, p, timeout, MaxExecOutput)
	switch {
	case err == nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
	case errors.Is(err, monitor.ErrNotRunning):
		err = fmt.Errorf("%w: %w", ErrNotRunning, err)
	default:
		// The container may have stopped while the command started, before
		// its monitor noticed: then that is the answer, not runc's failure.
		if _, stErr := m.running(ctx, id); errors.Is(stErr, ErrNotRunning) {
			err = fmt.Errorf("%w: %w", stErr, err)
		}
	}
	return res, err
}

// ReopenLog makes the monitor reopen the container's log file, after the
// kubelet rotated it.
func (m *Manager) ReopenLog(ctx context.Context, id string) error {
	r, err := m.running(ctx, id)
	if err != nil {
		return err
	}
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err != nil {
		return fmt.Errorf("reopen log of %s: %w", r.ID, err)
	}
	return mon.ReopenLog(ctx, r.ID)
}
