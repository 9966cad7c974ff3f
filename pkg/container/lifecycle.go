// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/phase"
)

// ErrNotCreated marks a start of a container that is not in the created
// state (already started, or exited).
var ErrNotCreated = errors.New("container is not in the created state")

// Start starts a created container.
func (m *Manager) Start(ctx context.Context, id string) error {
	r, unlock, err := m.getLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := m.State(ctx, r)
	if err != nil {
		return err
	}
	if st.Status != monitor.StatusCreated {
		return fmt.Errorf("%w: %s is %s", ErrNotCreated, r.ID, st.Status)
	}
	if r.StartError != "" {
		next := *r
		next.StartFailedAt = time.Now().UnixNano()
		next.ExitReported = true
		if err := m.store.Put(&next); err != nil {
			return err
		}
		m.emit(&next, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
		if m.hooks != nil {
			m.hooks.StopContainer(ctx, &next)
		}
		return fmt.Errorf("start %s: %s", r.ID, r.StartError)
	}
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err != nil {
		return fmt.Errorf("start %s: %w", r.ID, err)
	}
	if m.hooks != nil {
		m.hooks.StartContainer(ctx, r)
	}
	started, err := mon.Start(ctx, r.ID)
	if err != nil {
		return fmt.Errorf("start %s: %w", r.ID, err)
	}
	next := *r
	next.StartedAt = started.UnixNano()
	if err := m.store.Put(&next); err != nil {
		return err
	}
	m.emit(&next, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	if m.hooks != nil {
		m.hooks.PostStartContainer(ctx, &next)
	}
	go m.watchExit(next.ID, next.SandboxID)
	return nil
}

// Stop sends the container's stop signal, waits up to timeout for it to
// exit, then kills every process left with SIGKILL. Stopping a container
// that already exited, or does not exist, succeeds.
func (m *Manager) Stop(ctx context.Context, id string, timeout time.Duration) error {
	defer m.blockSync()()
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if !found {
		return err
	}
	defer unlock()
	if err := m.stopLocked(ctx, r, timeout); err != nil {
		return err
	}
	if m.hooks != nil && (r.StartedAt != 0 || r.StartFailedAt != 0) {
		// Plugins hear of the stop before StopContainer answers, not
		// only when the exit watcher gets to it.
		m.hooks.StopContainer(ctx, r)
	}
	return nil
}

func (m *Manager) stopLocked(ctx context.Context, r *Record, timeout time.Duration) error {
	if r.StartError != "" {
		return nil // its process never ran
	}
	st, err := m.State(ctx, r)
	if err != nil {
		return err
	}
	if st.Status == monitor.StatusExited || st.Status == monitor.StatusUnknown {
		return nil
	}
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err != nil {
		return fmt.Errorf("stop %s: %w", r.ID, err)
	}
	if timeout > 0 && st.Status == monitor.StatusRunning {
		sig := syscall.Signal(r.StopSignal)
		if sig == 0 {
			sig = syscall.SIGTERM
		}
		if err := mon.Kill(ctx, r.ID, sig, false); err != nil {
			return fmt.Errorf("stop %s: %w", r.ID, err)
		}
		wctx, cancel := context.WithTimeout(ctx, timeout)
		_, werr := mon.Wait(wctx, r.ID)
		cancel()
		if werr == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		klog.V(1).Infof("container %s did not stop within %v after signal %v: killing it", r.ID, timeout, sig)
	}
	if err := mon.Kill(ctx, r.ID, syscall.SIGKILL, true); err != nil {
		return fmt.Errorf("kill %s: %w", r.ID, err)
	}
	if _, err := mon.Wait(ctx, r.ID); err != nil {
		return fmt.Errorf("wait for %s after SIGKILL: %w", r.ID, err)
	}
	return nil
}

// Remove kills the container if it still runs and deletes everything it
// owned: runc state, rootfs and writable layer, bundle, record. The log
// file stays, as the kubelet expects. Removing what is gone succeeds.
func (m *Manager) Remove(ctx context.Context, id string) error {
	defer m.blockSync()()
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if !found {
		return err
	}
	defer unlock()
	t := phase.Start("RemoveContainer", r.ID)
	defer t.Done()
	if err := m.stopLocked(ctx, r, 0); err != nil {
		return err
	}
	t.Step("stop")
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err == nil {
		// A cached client may name a monitor killed since: then nothing
		// answers and runc deletes the container as below.
		err = mon.Delete(ctx, r.ID)
		if err != nil && !errors.Is(err, monitor.ErrNoMonitor) {
			return fmt.Errorf("remove %s: %w", r.ID, err)
		}
	}
	if err != nil {
		// No monitor answers (killed, or the node rebooted): runc's state
		// and cgroup are removed directly.
		if err := m.deleteFromRuntime(ctx, r); err != nil {
			return fmt.Errorf("remove %s: %w", r.ID, err)
		}
	}
	t.Step("delete")
	if err := m.images.RemoveRootfs(r.ID); err != nil {
		return fmt.Errorf("remove %s: %w", r.ID, err)
	}
	t.Step("rootfs")
	if err := os.RemoveAll(r.Bundle); err != nil {
		return fmt.Errorf("remove %s: %w", r.ID, err)
	}
	t.Step("bundle")
	if (r.StartedAt != 0 || r.StartFailedAt != 0) && !r.ExitReported {
		// Killed here before its exit watcher got to it: STOPPED goes
		// out before DELETED.
		next := *r
		next.ExitReported = true
		m.emit(&next, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	}
	if err := m.store.Delete(r.ID); err != nil {
		return err
	}
	m.exited.Delete(r.ID)
	m.cgroupDirs.Delete(r.ID)
	m.users.Delete(r.ID)
	t.Step("record")
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	if m.hooks != nil {
		m.hooks.RemoveContainer(ctx, r)
	}
	klog.V(1).Infof("container %s removed", r.ID)
	return nil
}

// State is the container's live state: from the pod's monitor when it
// answers, else from the exit record it left on disk.
func (m *Manager) State(ctx context.Context, r *Record) (monitor.State, error) {
	if r.StartError != "" {
		return startErrorState(r), nil
	}
	if st, ok := m.exited.Load(r.ID); ok {
		return st.(monitor.State), nil
	}
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err == nil {
		st, err := mon.State(ctx, r.ID)
		if err == nil {
			if r.ExitReported && st.Status == monitor.StatusExited {
				m.exited.Store(r.ID, st)
			}
			return st, nil
		}
		klog.V(2).Infof("container %s: monitor state: %v", r.ID, err)
	}
	dir, derr := m.sandboxes.MonitorDir(r.SandboxID)
	if derr == nil {
		if st, ok, err := monitor.ReadExit(dir, r.ID); err == nil && ok {
			if r.ExitReported && st.Status == monitor.StatusExited {
				m.exited.Store(r.ID, st)
			}
			return st, nil
		}
	}
	// No monitor and no exit record: the container's fate is unknown (the
	// node rebooted, or the pod's monitor was killed).
	return monitor.State{ID: r.ID, Status: monitor.StatusUnknown, Reason: "Unknown"}, nil
}

// ListStatus is the container's status for ListContainers, from what the
// record and the exit watcher keep current, without asking the pod's
// monitor: a started container whose exit was neither reported nor
// recorded by its monitor runs (the watcher reports an exit, or a monitor
// lost, as it happens), one never started is created. Exited containers' final states are kept after the
// first look. At hundreds of pods this is the difference between a list
// that reads memory and one that dials every pod's monitor.
func (m *Manager) ListStatus(ctx context.Context, r *Record) (string, error) {
	switch {
	case r.StartError != "" || r.ExitReported:
		st, err := m.State(ctx, r)
		return st.Status, err
	case r.StartedAt != 0:
		// Exited a moment ago, before its watcher reported it (after a
		// StopContainer, say): the monitor's exit record is there.
		if dir, err := m.sandboxes.MonitorDir(r.SandboxID); err != nil || monitor.ExitRecorded(dir, r.ID) {
			st, err := m.State(ctx, r)
			return st.Status, err
		}
		return monitor.StatusRunning, nil
	default:
		return monitor.StatusCreated, nil
	}
}

// Exit code and reason of a container whose process could not be started,
// as the reference runtime reports one.
const (
	StartErrorExitCode = 128
	ReasonStartError   = "StartError"
)

// startErrorState is the state of a container whose process cannot start:
// created until StartContainer tried, exited after.
func startErrorState(r *Record) monitor.State {
	st := monitor.State{ID: r.ID, Status: monitor.StatusCreated, CreatedAt: time.Unix(0, r.CreatedAt)}
	if r.StartFailedAt != 0 {
		st.Status, st.ExitCode, st.Reason = monitor.StatusExited, StartErrorExitCode, ReasonStartError
		st.FinishedAt = time.Unix(0, r.StartFailedAt)
	}
	return st
}
