// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"errors"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
	"github.com/podshim/podshim/pkg/monitor"
)

// Notifier hears of a container's lifecycle change once it is on disk.
// It is called with the container's lock held, so it must only queue the
// event, never block or do I/O.
type Notifier func(containerID, sandboxID string, t runtimeapi.ContainerEventType)

// SetNotifier installs the lifecycle hook (the CRI's event stream). Set it
// before the RPCs are served and before WatchExits.
func (m *Manager) SetNotifier(n Notifier) { m.notify = n }

func (m *Manager) emit(r *Record, t runtimeapi.ContainerEventType) {
	if m.notify != nil {
		m.notify(r.ID, r.SandboxID, t)
	}
}

// exitWatchRetry bounds the pause between two attempts to wait on a
// container's exit when its monitor does not answer.
const exitWatchRetry = 10 * time.Second

// watchExit waits, in the background, for a started container's exit as
// its pod's monitor records it, and reports it once.
func (m *Manager) watchExit(id, sandboxID string) {
	ctx := context.Background()
	delay := 100 * time.Millisecond
	for {
		mon, err := m.monitorOf(ctx, sandboxID)
		if err == nil {
			_, err = mon.Wait(ctx, id)
		}
		r, gerr := m.store.Get(id)
		if gerr != nil || r.ExitReported {
			return // removed, or reported by Stop, Remove or a start failure
		}
		st, serr := m.State(ctx, r)
		switch {
		case serr == nil && st.Status == monitor.StatusExited:
			if m.reportExit(id) {
				metrics.ContainerExit(st.Reason)
			}
			return
		case serr == nil && st.Status == monitor.StatusUnknown &&
			(errors.Is(err, monitor.ErrNoMonitor) || errors.Is(err, monitor.ErrNotFound)):
			// The pod's monitor is gone, or lost the container, and left
			// no exit: the container did not survive it.
			klog.Warningf("container %s: stopped without an exit record: %v", id, err)
			if m.reportExit(id) {
				metrics.MonitorLost()
				metrics.ContainerExit(st.Reason)
			}
			return
		}
		klog.V(2).Infof("container %s: waiting for its exit: %v (retrying in %v)", id, err, delay)
		time.Sleep(delay)
		delay = min(2*delay, exitWatchRetry)
	}
}

// reportExit marks the container's exit as reported and emits STOPPED,
// unless that was done already; it tells whether it did.
func (m *Manager) reportExit(id string) bool {
	defer m.blockSync()()
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if !found {
		return false
	}
	defer unlock()
	if err != nil || r.ExitReported {
		return false
	}
	m.markExitReportedLocked(r)
	return true
}

// markExitReportedLocked records that the container's exit was reported,
// then emits STOPPED. The caller holds the container's lock.
func (m *Manager) markExitReportedLocked(r *Record) {
	next := *r
	next.ExitReported = true
	if err := m.store.Put(&next); err != nil {
		// Emitted anyway: a restarted daemon may report it a second time,
		// which only costs the kubelet one more relist.
		klog.Errorf("container %s: record its reported exit: %v", r.ID, err)
	}
	m.emit(&next, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	if m.hooks != nil {
		m.hooks.StopContainer(context.Background(), &next)
	}
}

// WatchExits runs once at daemon start, after recovery and SetNotifier:
// every started container whose exit was not reported gets its watcher
// again, which reports at once an exit that happened while the daemon was
// down (the monitor answers its Wait straight away) and waits for the
// others. Nothing here asks a monitor before the daemon serves: with
// hundreds of pods those calls were most of a restart, and a container
// that exited meanwhile is listed exited from its monitor's exit record
// before its watcher gets to it (ListStatus).
func (m *Manager) WatchExits() {
	for _, r := range m.store.List() {
		if r.ExitReported || (r.StartedAt == 0 && r.StartFailedAt == 0) {
			continue // reported, or never started
		}
		go m.watchExit(r.ID, r.SandboxID)
	}
}
