// SPDX-License-Identifier: Apache-2.0

package container

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
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
	MemoryCache      uint64 // page cache
	MemoryMappedFile uint64
	MemorySwap       uint64
	// MemoryLimit is the cgroup's own memory limit, 0 when it has none.
	MemoryLimit uint64
	// Tasks counts the cgroup's tasks (threads included), below it too:
	// pids.current where the pids controller is, else counted.
	Tasks uint64
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
		u.MemoryCache, u.MemoryMappedFile = mem["file"], mem["file_mapped"]
		// memory.swap.* exist only with swap accounting on.
		if u.MemorySwap, err = readUint(filepath.Join(dir, "memory.swap.current")); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return u, err
		}
		if u.MemoryLimit, err = readLimit(filepath.Join(dir, "memory.max")); err != nil {
			return u, err
		}
		u.Tasks, err = readTasks(filepath.Join(dir, "pids.current"), dir, "cgroup.threads")
		return u, err
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
	u.MemoryCache, u.MemoryMappedFile, u.MemorySwap = mem["total_cache"], mem["total_mapped_file"], mem["total_swap"]
	if u.MemoryLimit, err = readLimit(filepath.Join(memDir, "memory.limit_in_bytes")); err != nil {
		return u, err
	}
	u.Tasks, err = readTasks(filepath.Join(root, "pids", path, "pids.current"), filepath.Join(root, "cpuacct", path), "tasks")
	return u, err
}

// unlimitedMemory: v1 spells "no limit" as the largest page-aligned
// int64; anything above 2^62 is no limit, as the kubelet reads it.
const unlimitedMemory = 1 << 62

// readLimit reads a memory limit file; "max" (v2) or a v1 value past
// unlimitedMemory is no limit, reported as 0.
func readLimit(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if v > unlimitedMemory {
		return 0, nil
	}
	return v, nil
}

// readTasks reads pids.current, which the kernel keeps for the whole
// subtree; without the pids controller it counts the lines of every
// listFile (tasks, cgroup.threads) in the subtree under dir instead.
func readTasks(pidsCurrent, dir, listFile string) (uint64, error) {
	n, err := readUint(pidsCurrent)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return n, err
	}
	return countLines(dir, listFile)
}

// countLines sums the lines of every file called name below dir (one pid
// a line in cgroup.procs, tasks and cgroup.threads).
func countLines(dir, name string) (uint64, error) {
	var n uint64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// A child cgroup removed during the walk is no error.
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(filepath.Join(p, name))
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		n += uint64(bytes.Count(data, []byte{'\n'}))
		return nil
	})
	return n, err
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
