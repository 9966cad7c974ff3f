// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"fmt"
	"os"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/phase"
)

// Remove stops the sandbox if needed and deletes everything it owned: the
// runc container and its cgroup, netns, shm mount, directories and record.
// Removing a sandbox that does not exist succeeds.
func (m *Manager) Remove(ctx context.Context, id string) error {
	defer m.blockSync()()
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if !found {
		return err
	}
	defer unlock()
	if err := m.stopLocked(ctx, r); err != nil {
		return err
	}
	t := phase.Start("RemovePodSandbox", r.ID)
	defer t.Done()
	rt, err := m.runtimeOf(r)
	if err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	if err := rt.Delete(ctx, r.ID); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	t.Step("delete-pause")
	m.stopMonitor(ctx, r)
	t.Step("stop-monitor")
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	t.Step("remove-dir")
	if err := m.store.Delete(r.ID); err != nil {
		return err
	}
	t.Step("record")
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	if m.hooks != nil {
		m.hooks.RemovePodSandbox(ctx, r)
	}
	klog.V(1).Infof("sandbox %s removed", r.ID)
	return nil
}
