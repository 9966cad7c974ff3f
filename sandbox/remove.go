// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"

	"k8s.io/klog/v2"
)

// Remove stops the sandbox if needed and deletes everything it owned: the
// runc container and its cgroup, netns, shm mount, directories and record.
// Removing a sandbox that does not exist succeeds.
func (m *Manager) Remove(ctx context.Context, id string) error {
	r, err := m.store.Get(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	defer m.lock(r.ID)()
	if r, err = m.store.Get(r.ID); errors.Is(err, ErrNotFound) {
		return nil
	}
	if err := m.stopLocked(ctx, r); err != nil {
		return err
	}
	if err := m.runc.Delete(ctx, r.ID); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	m.stopMonitor(ctx, r)
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("remove sandbox %s: %w", r.ID, err)
	}
	if err := m.store.Delete(r.ID); err != nil {
		return err
	}
	m.locks.Forget(r.ID)
	klog.V(1).Infof("sandbox %s removed", r.ID)
	return nil
}
