// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// deleteKillTimeout bounds how long Delete waits for a killed container's
// exit to be recorded before it lets runc delete --force finish the job.
const deleteKillTimeout = 10 * time.Second

// start runs `runc start` and records the start time: the time runc was
// asked, so that a container that exits at once never finished before it
// started.
func (m *monitor) start(id string) (time.Time, error) {
	c, err := m.lookup(id)
	if err != nil {
		return time.Time{}, err
	}
	if st := c.snapshot(); st.Status != StatusCreated {
		return time.Time{}, fmt.Errorf("start %s: container is %s, not created", id, st.Status)
	}
	startedAt := time.Now()
	if err := m.runc.run(m.runc.command(c.dir, "start", id)); err != nil {
		return time.Time{}, fmt.Errorf("runc start %s: %w", id, err)
	}
	c.mu.Lock()
	c.state.StartedAt = startedAt
	if c.state.Status == StatusCreated { // it may have exited already
		c.state.Status = StatusRunning
	}
	rec := c.recordLocked()
	c.mu.Unlock()
	if err := writeJSONAtomic(filepath.Join(c.dir, stateFile), rec); err != nil {
		return startedAt, fmt.Errorf("start %s: %w", id, err)
	}
	return startedAt, nil
}

// kill signals the container; a container that already exited is not an
// error, the caller wanted it to stop.
func (m *monitor) kill(id string, sig int, all bool) error {
	if sig <= 0 {
		return fmt.Errorf("kill %s: invalid signal %d", id, sig)
	}
	c, err := m.lookup(id)
	if err != nil {
		return err
	}
	if c.hasExited() {
		return nil
	}
	args := []string{"kill"}
	if all {
		args = append(args, "--all")
	}
	args = append(args, id, strconv.Itoa(sig))
	err = m.runc.run(m.runc.command(c.dir, args...))
	if err == nil || isGone(err) || c.hasExited() {
		return nil
	}
	return fmt.Errorf("runc kill %s: %w", id, err)
}

func (m *monitor) state(id string) (State, error) {
	c, err := m.lookup(id)
	if err != nil {
		return State{}, err
	}
	return c.snapshot(), nil
}

// wait returns once the container's exit is recorded, or ctx ends (the
// client went away).
func (m *monitor) wait(ctx context.Context, id string) (State, error) {
	c, err := m.lookup(id)
	if err != nil {
		return State{}, err
	}
	select {
	case <-c.exited:
		return c.snapshot(), nil
	case <-ctx.Done():
		return State{}, ctx.Err()
	}
}

// delete kills the container if it still runs, waits for its exit to be
// recorded (so an OOM kill is read before the cgroup goes), deletes it
// from runc, releases its stdio and log, and removes its records.
// Deleting an unknown container succeeds.
func (m *monitor) delete(id string) error {
	dir, err := m.containerDir(id)
	if err != nil {
		return err
	}
	c, err := m.lookup(id)
	if errors.Is(err, ErrNotFound) {
		// Nothing held; make sure runc has nothing either.
		if err := m.runc.delete(m.dir, id); err != nil && !isGone(err) {
			return fmt.Errorf("runc delete %s: %w", id, err)
		}
		return removeRecords(dir)
	}
	if !c.hasExited() {
		if err := m.kill(id, int(syscall.SIGKILL), true); err != nil {
			return fmt.Errorf("delete %s: %w", id, err)
		}
		t := time.NewTimer(deleteKillTimeout)
		select {
		case <-c.exited:
		case <-t.C:
		}
		t.Stop()
	}
	if err := m.dispose(c); err != nil {
		return err
	}
	return removeRecords(dir)
}

func removeRecords(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove records: %w", err)
	}
	return nil
}

// reopenLog makes the container's log writers continue in a new file at
// the log path, after the kubelet renamed the old one away.
func (m *monitor) reopenLog(id string) error {
	c, err := m.lookup(id)
	if err != nil {
		return err
	}
	if st := c.snapshot(); st.Status != StatusRunning {
		return fmt.Errorf("reopen log of %s: container is %s, not running", id, st.Status)
	}
	return c.log.reopen()
}
