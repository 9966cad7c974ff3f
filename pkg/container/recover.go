// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
)

// Recover runs once at daemon start: a CreateContainer that a crash
// interrupted leaves a rootfs or a bundle with no record; both are removed.
// Containers that have a record are left alone: their monitor still runs
// them, or their exit is on disk. A container that runs although its record
// is gone keeps its rootfs and bundle (removing them would pull the ground
// from under a live workload); sandbox recovery reports it.
func (m *Manager) Recover(ctx context.Context) {
	known := m.IDs()
	live, err := m.sandboxes.Handlers().Live(ctx)
	if err != nil {
		klog.Errorf("container recovery: cannot tell which unrecorded containers still run, so none is removed: %v", err)
		return
	}
	unrecorded := func(id string) bool {
		_, running := live[id]
		return !known[id] && !running
	}
	ids, err := m.images.RootfsIDs()
	if err != nil {
		klog.Errorf("container recovery: %v", err)
	}
	for _, id := range ids {
		if unrecorded(id) {
			klog.Infof("container recovery: removing the rootfs of unrecorded container %s", id)
			logUndo(id, "remove rootfs", m.images.RemoveRootfs(id))
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(m.opts.StateDir, "containers"))
	for _, d := range dirs {
		if unrecorded(d.Name()) {
			logUndo(d.Name(), "remove bundle", os.RemoveAll(filepath.Join(m.opts.StateDir, "containers", d.Name())))
		}
	}
}
