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
// them, or their exit is on disk.
func (m *Manager) Recover(ctx context.Context) {
	known := m.IDs()
	ids, err := m.images.RootfsIDs()
	if err != nil {
		klog.Errorf("container recovery: %v", err)
	}
	for _, id := range ids {
		if !known[id] {
			klog.Infof("container recovery: removing the rootfs of unrecorded container %s", id)
			logUndo(id, "remove rootfs", m.images.RemoveRootfs(id))
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(m.opts.StateDir, "containers"))
	for _, d := range dirs {
		if !known[d.Name()] {
			logUndo(d.Name(), "remove bundle", os.RemoveAll(filepath.Join(m.opts.StateDir, "containers", d.Name())))
		}
	}
}
