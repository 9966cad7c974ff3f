// SPDX-License-Identifier: Apache-2.0

package container

import (
	"encoding/json"
	"fmt"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Usage is a container's resource use at one moment.
type Usage struct {
	Timestamp time.Time
	cgroupUsage
	// WritableBytes and WritableInodes measure its writable layer.
	WritableBytes, WritableInodes uint64
	WritableMount                 string
}

// Usage reads a container's CPU and memory from its cgroup and measures
// its writable layer. A container that is not running has no cgroup: its
// CPU and memory read as zero.
func (m *Manager) Usage(r *Record) (Usage, error) {
	u := Usage{Timestamp: time.Now()}
	var spec specs.Spec
	if err := json.Unmarshal(r.Spec, &spec); err == nil && spec.Linux != nil && m.opts.CgroupDriver != "systemd" {
		if cg, err := readCgroupUsage(spec.Linux.CgroupsPath, m.features.CgroupV2); err == nil {
			u.cgroupUsage = cg
		}
	}
	fs, err := m.images.RootfsUsage(r.ID)
	if err != nil {
		return u, fmt.Errorf("stats of %s: %w", r.ID, err)
	}
	u.WritableBytes, u.WritableInodes, u.WritableMount = fs.UsedBytes, fs.InodesUsed, fs.Path
	return u, nil
}

// PodUsage reads a pod's cgroup: the parent of its pause and containers.
func (m *Manager) PodUsage(podCgroupsPath string) (cgroupUsage, error) {
	if m.opts.CgroupDriver == "systemd" {
		return cgroupUsage{}, nil
	}
	return readCgroupUsage(podCgroupsPath, m.features.CgroupV2)
}
