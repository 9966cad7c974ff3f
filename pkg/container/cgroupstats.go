// SPDX-License-Identifier: Apache-2.0

package container

import (
	"github.com/opencontainers/cgroups"
)

// cgroupUsage is what the kubelet reads of a container's cgroup.
type cgroupUsage struct {
	CPUNanos         uint64 // cumulative CPU time
	MemoryWorkingSet uint64 // usage minus inactive file cache: what eviction looks at
	MemoryUsage      uint64
	MemoryRSS        uint64
	PageFaults       uint64
	MajorPageFaults  uint64
	MemoryCache      uint64 // page cache
	MemoryMappedFile uint64
	MemorySwap       uint64
	// MemoryLimit is the cgroup's own memory limit, 0 when it has none.
	MemoryLimit uint64
	// Tasks counts the cgroup's tasks (threads included), below it too:
	// pids.current where the pids controller is, else its processes.
	Tasks uint64
}

// usageControllers are the controllers cgroupUsage is made of.
const usageControllers = cgroups.CPU | cgroups.Memory | cgroups.Pids

// readCgroupUsage reads the cgroup at path (below the hierarchy's root).
func (h hierarchy) readCgroupUsage(path string) (cgroupUsage, error) {
	r, err := h.read(path, usageControllers)
	if err != nil {
		return cgroupUsage{}, err
	}
	return usageOf(r), nil
}

// usageOf takes the kubelet's figures from the library's stats, named as
// cAdvisor takes them: v1's memory.stat counts the hierarchy under total_*,
// v2's is hierarchical already.
func usageOf(r cgroupRead) cgroupUsage {
	mem := r.stats.MemoryStats
	u := cgroupUsage{
		CPUNanos:    r.stats.CpuStats.CpuUsage.TotalUsage,
		MemoryUsage: mem.Usage.Usage,
		MemoryLimit: limitOf(mem.Usage.Limit),
		Tasks:       r.stats.PidsStats.Current,
	}
	if r.v2 {
		u.MemoryWorkingSet = subFloor(u.MemoryUsage, mem.Stats["inactive_file"])
		u.MemoryRSS = mem.Stats["anon"]
		u.PageFaults, u.MajorPageFaults = mem.Stats["pgfault"], mem.Stats["pgmajfault"]
		u.MemoryCache, u.MemoryMappedFile = mem.Stats["file"], mem.Stats["file_mapped"]
		u.MemorySwap = mem.SwapOnlyUsage.Usage // memory.swap.current; 0 without swap accounting
		return u
	}
	u.MemoryWorkingSet = subFloor(u.MemoryUsage, mem.Stats["total_inactive_file"])
	u.MemoryRSS = mem.Stats["total_rss"]
	u.PageFaults, u.MajorPageFaults = mem.Stats["total_pgfault"], mem.Stats["total_pgmajfault"]
	u.MemoryCache, u.MemoryMappedFile = mem.Stats["total_cache"], mem.Stats["total_mapped_file"]
	u.MemorySwap = mem.Stats["total_swap"]
	return u
}

// unlimitedMemory: v1 spells "no limit" as the largest page-aligned
// int64 and the library reads v2's "max" as the largest uint64; anything
// above 2^62 is no limit, as the kubelet reads it.
const unlimitedMemory = 1 << 62

// limitOf is a limit as the stats report it: 0 when there is none.
func limitOf(v uint64) uint64 {
	if v > unlimitedMemory {
		return 0
	}
	return v
}

func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}
