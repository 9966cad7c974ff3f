// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/phase"
)

// pauseExitWait bounds the wait for a SIGKILLed pause process to vanish.
const pauseExitWait = 10 * time.Second

// Stop stops the pause process and tears the pod's network down, releasing
// its IP. It succeeds for a sandbox already stopped or already gone, and
// when the pause process died or the network was only half set up: every
// step is idempotent, so a failed stop can simply be retried.
func (m *Manager) Stop(ctx context.Context, id string) error {
	defer m.blockSync()()
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if !found {
		return err
	}
	defer unlock()
	return m.stopLocked(ctx, r)
}

func (m *Manager) stopLocked(ctx context.Context, r *Record) error {
	t := phase.Start("StopPodSandbox", r.ID)
	defer t.Done()
	var errs []error
	rt, err := m.runtimeOf(r)
	if err != nil {
		return fmt.Errorf("stop sandbox %s: %w", r.ID, err)
	}
	if m.hooks != nil && !r.HooksStopped {
		m.hooks.StopPodSandbox(ctx, r)
		// Recorded at once: a retried stop (after a CNI failure, say)
		// does not tell the plugins again.
		told := *r
		told.HooksStopped = true
		if err := m.store.Put(&told); err != nil {
			return err
		}
		r = &told
		t.Step("hooks")
	}
	if r.State == StateNotReady && r.PidStart != 0 && !alive(r.Pid, r.PidStart) {
		// Stopped before and its pause is gone (a remove after a stop, the
		// kubelet's usual order): there is nothing for runc to kill.
	} else if err := rt.Kill(ctx, r.ID, int(syscall.SIGKILL)); err != nil {
		errs = append(errs, err)
	} else if err := waitGone(ctx, r.Pid, r.PidStart); err != nil {
		errs = append(errs, fmt.Errorf("pause pid %d: %w", r.Pid, err))
	}
	t.Step("kill-pause")
	if r.NetNSPath != "" && !r.NetworkDown {
		errs = append(errs, logTeardown(r.ID, "CNI teardown", m.net.Teardown(ctx, podOf(r), r.NetNSPath)))
		t.Step("cni-del")
		errs = append(errs, logTeardown(r.ID, "remove netns", m.net.RemoveNetNS(r.NetNSPath)))
		t.Step("netns")
	}
	errs = append(errs, logTeardown(r.ID, "unmount shm", unmountShm(r.ShmPath)))
	t.Step("shm")
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop sandbox %s: %w", r.ID, err)
	}
	if r.State != StateNotReady || !r.NetworkDown || !r.StopReported || (m.hooks != nil && !r.HooksStopped) {
		stopped := *r
		stopped.State = StateNotReady
		stopped.NetworkDown = true
		stopped.StopReported = true
		stopped.HooksStopped = m.hooks != nil
		if err := m.store.Put(&stopped); err != nil {
			return err
		}
		if !r.StopReported {
			m.emit(&stopped, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
		}
		t.Step("record")
	}
	klog.V(1).Infof("sandbox %s stopped", r.ID)
	return nil
}

// waitGone waits for a killed process to disappear. The pause process is
// not our child, so there is nothing to wait(2) on; its exit is short.
func waitGone(ctx context.Context, pid int, start uint64) error {
	deadline := time.Now().Add(pauseExitWait)
	for delay := time.Millisecond; alive(pid, start); delay = min(delay*2, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New("still running after SIGKILL")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
	}
	return nil
}
