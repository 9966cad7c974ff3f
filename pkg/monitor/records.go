// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/podshim/podshim/pkg/atomicfile"
)

// The records a daemon reads back after a restart, or after the monitor
// itself is gone. Each is rewritten whole and atomically, so a reader sees
// the old record or the new one, never a torn one.

const (
	stateFile = "state.json"
	exitFile  = "exit.json"
)

// stateRecord is written at create and again at start.
type stateRecord struct {
	ID        string    `json:"id"`
	Pid       int       `json:"pid"`
	Bundle    string    `json:"bundle"`
	LogPath   string    `json:"logPath,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	StartedAt time.Time `json:"startedAt,omitzero"`
}

// exitRecord is written once, when the container's init has exited.
type exitRecord struct {
	ID         string    `json:"id"`
	Pid        int       `json:"pid"`
	ExitCode   int       `json:"exitCode"`
	FinishedAt time.Time `json:"finishedAt"`
	Reason     string    `json:"reason"`
}

// writeJSONAtomic writes v to path through a synced temporary file and a
// rename, then syncs the directory so the rename itself survives a crash.
func writeJSONAtomic(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// ExitRecorded reports whether the monitor whose directory is dir has
// recorded the exit of container id: it writes that record before it tells
// any waiter, so a container without one had not exited a moment ago. One
// stat, for listings that must not dial every monitor.
func ExitRecorded(dir, id string) bool {
	_, err := os.Stat(filepath.Join(dir, id, exitFile))
	return err == nil
}

// ReadExit reads what the monitor under dir recorded for container id,
// for when the monitor itself is gone. The bool reports whether an exit
// was recorded; without one, State still carries the pid and the created
// and started times if they were recorded, with Status "unknown".
func ReadExit(dir, id string) (State, bool, error) {
	st := State{ID: id, Status: StatusUnknown}
	cdir := filepath.Join(dir, id)
	var s stateRecord
	switch err := readJSON(filepath.Join(cdir, stateFile), &s); {
	case err == nil:
		st.Pid, st.CreatedAt, st.StartedAt = s.Pid, s.CreatedAt, s.StartedAt
	case !errors.Is(err, os.ErrNotExist):
		return st, false, fmt.Errorf("read state of %s: %w", id, err)
	}
	var e exitRecord
	switch err := readJSON(filepath.Join(cdir, exitFile), &e); {
	case errors.Is(err, os.ErrNotExist):
		return st, false, nil
	case err != nil:
		return st, false, fmt.Errorf("read exit of %s: %w", id, err)
	}
	st.Status = StatusExited
	st.ExitCode, st.FinishedAt, st.Reason = e.ExitCode, e.FinishedAt, e.Reason
	if st.Pid == 0 {
		st.Pid = e.Pid
	}
	return st, true, nil
}
