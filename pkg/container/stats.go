// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"time"
)

// Usage is a container's resource use at one moment.
type Usage struct {
	Timestamp time.Time
	// HasCgroup is false when the container has no cgroup (it is not
	// running): then there are no CPU and memory figures, not zeros.
	HasCgroup bool
	cgroupUsage
	// WritableBytes and WritableInodes measure its writable layer.
	WritableBytes, WritableInodes uint64
	WritableMount                 string
}

// Usage reads a container's CPU and memory from its cgroup (under either
// cgroup driver) and measures its writable layer. A container that is not
// running has no cgroup, and so no CPU and memory figures; a cgroup that is
// there but cannot be read is an error, never zeros.
func (m *Manager) Usage(r *Record) (Usage, error) {
	u := Usage{Timestamp: time.Now()}
	dir, err := m.ContainerCgroup(r)
	if err != nil {
		return u, fmt.Errorf("stats of %s: %w", r.ID, err)
	}
	switch cg, err := m.cgroups.readCgroupUsage(dir); {
	case err == nil:
		u.cgroupUsage, u.HasCgroup = cg, true
	case notExist(err):
		// Not running: runc removed the cgroup with the last process.
	default:
		return u, fmt.Errorf("stats of %s: cgroup %s: %w", r.ID, dir, err)
	}
	layer, err := m.images.RootfsUsage(r.ID)
	if err != nil {
		return u, fmt.Errorf("stats of %s: %w", r.ID, err)
	}
	u.WritableBytes, u.WritableInodes, u.WritableMount = layer.UsedBytes, layer.InodesUsed, layer.Path
	return u, nil
}
