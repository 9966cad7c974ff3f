// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"errors"
	"time"
)

// Container statuses.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
	StatusUnknown = "unknown"
)

// Exit reasons, as the kubelet shows them.
const (
	ReasonCompleted = "Completed"
	ReasonError     = "Error"
	ReasonOOMKilled = "OOMKilled"
)

var (
	// ErrNotFound means the monitor has no container of that id.
	ErrNotFound = errors.New("container not found in monitor")
	// ErrNoMonitor means nothing answers on the monitor's socket: the
	// caller falls back to ReadExit.
	ErrNoMonitor = errors.New("no monitor is running")
	// ErrShuttingDown means the monitor was told its pod is gone and
	// takes no new container.
	ErrShuttingDown = errors.New("monitor is shutting down")
	// ErrNotRunning means the call needs a running container, such as
	// Attach, and the container is not (yet, or any more).
	ErrNotRunning = errors.New("container is not running")
	// ErrNoStdin means stdin was given for a container created without
	// Stdin, or whose StdinOnce stdin was already closed. Monitors now
	// drop such stdin instead; one started by an older daemon may still
	// answer with it.
	ErrNoStdin = errors.New("container has no stdin")
)

// State is what the monitor knows of one container.
type State struct {
	ID         string    `json:"id"`
	Pid        int       `json:"pid,omitempty"`
	Status     string    `json:"status"`
	CreatedAt  time.Time `json:"createdAt,omitzero"`
	StartedAt  time.Time `json:"startedAt,omitzero"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	ExitCode   int       `json:"exitCode"`
	Reason     string    `json:"reason,omitempty"`
}

// exitReason follows containerd: an OOM kill anywhere in the container's
// cgroup wins over the exit code, which kubelet users expect.
func exitReason(code int, oomKilled bool) string {
	switch {
	case oomKilled:
		return ReasonOOMKilled
	case code == 0:
		return ReasonCompleted
	default:
		return ReasonError
	}
}
