// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"fmt"
	"os"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
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
	rt, err := m.runtimeOf(r)
	if err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	if err := rt.Delete(ctx, r.ID); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	m.stopMonitor(ctx, r)
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	if err := m.store.Delete(r.ID); err != nil {
		return err
	}
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	if m.hooks != nil {
		m.hooks.RemovePodSandbox(ctx, r)
	}
	klog.V(1).Infof("sandbox %s removed", r.ID)
	return nil
}
