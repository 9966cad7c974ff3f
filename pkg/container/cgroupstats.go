// SPDX-License-Identifier: Apache-2.0

package container

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const cgroupRoot = "/sys/fs/cgroup"

// cgroupUsage is what the kubelet reads of a container's cgroup.
type cgroupUsage struct {
	CPUNanos         uint64 // cumulative CPU time
	MemoryWorkingSet uint64 // usage minus inactive file cache: what eviction looks at
	MemoryUsage      uint64
	MemoryRSS        uint64
	PageFaults       uint64
	MajorPageFaults  uint64
}

// readCgroupUsage reads a cgroupfs-driver cgroup path ("/a/b"), on the
// unified (v2) hierarchy when the node has one, else on v1's controllers.
func readCgroupUsage(path string, v2 bool) (cgroupUsage, error) {
	return readCgroupUsageAt(cgroupRoot, path, v2)
}

// readCgroupUsageAt reads below root, which tests point at a fake tree.
func readCgroupUsageAt(root, path string, v2 bool) (cgroupUsage, error) {
	var u cgroupUsage
	if v2 {
		dir := filepath.Join(root, path)
		cpu, err := readKeyed(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			return u, err
		}
		u.CPUNanos = cpu["usage_usec"] * 1000
		u.MemoryUsage, err = readUint(filepath.Join(dir, "memory.current"))
		if err != nil {
			return u, err
		}
		mem, err := readKeyed(filepath.Join(dir, "memory.stat"))
		if err != nil {
			return u, err
		}
		u.MemoryWorkingSet = subFloor(u.MemoryUsage, mem["inactive_file"])
		u.MemoryRSS = mem["anon"]
		u.PageFaults, u.MajorPageFaults = mem["pgfault"], mem["pgmajfault"]
		return u, nil
	}
	var err error
	if u.CPUNanos, err = readUint(filepath.Join(root, "cpuacct", path, "cpuacct.usage")); err != nil {
		return u, err
	}
	memDir := filepath.Join(root, "memory", path)
	if u.MemoryUsage, err = readUint(filepath.Join(memDir, "memory.usage_in_bytes")); err != nil {
		return u, err
	}
	mem, err := readKeyed(filepath.Join(memDir, "memory.stat"))
	if err != nil {
		return u, err
	}
	u.MemoryWorkingSet = subFloor(u.MemoryUsage, mem["total_inactive_file"])
	u.MemoryRSS = mem["total_rss"]
	u.PageFaults, u.MajorPageFaults = mem["total_pgfault"], mem["total_pgmajfault"]
	return u, nil
}

func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// readKeyed parses "key value" lines (memory.stat, cpu.stat).
func readKeyed(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out, sc.Err()
}
