// SPDX-License-Identifier: Apache-2.0

package container

import (
	"errors"
	"io/fs"
	"path/filepath"
)

// userHZ is the unit of v1's cpuacct.stat (USER_HZ, 100 on every Linux
// architecture the kubelet runs on).
const userHZ = 100

// CgroupDetail is what the cAdvisor-named metrics want beyond the figures
// the stats RPCs report; only ListPodSandboxMetrics pays for reading it.
type CgroupDetail struct {
	CPUUserNanos, CPUSystemNanos uint64
	// Processes counts the processes (not threads) in the subtree.
	Processes uint64
	// TasksMax is pids.max, 0 when unlimited or without the controller.
	TasksMax uint64
	OOMKills uint64
	// MemoryMaxUsage (v1 max_usage_in_bytes, v2 memory.peak) and
	// MemoryFailcnt (v1 only) are valid when their Has flag is set.
	MemoryMaxUsage, MemoryFailcnt       uint64
	HasMemoryMaxUsage, HasMemoryFailcnt bool
}

func readCgroupDetail(path string, v2 bool) (CgroupDetail, error) {
	return readCgroupDetailAt(cgroupRoot, path, v2)
}

// readCgroupDetailAt reads below root, which tests point at a fake tree.
func readCgroupDetailAt(root, path string, v2 bool) (CgroupDetail, error) {
	var d CgroupDetail
	var err error
	if v2 {
		dir := filepath.Join(root, path)
		cpu, err := readKeyed(filepath.Join(dir, "cpu.stat"))
		if err != nil {
			return d, err
		}
		d.CPUUserNanos, d.CPUSystemNanos = cpu["user_usec"]*1000, cpu["system_usec"]*1000
		events, err := readKeyed(filepath.Join(dir, "memory.events"))
		if err != nil {
			return d, err
		}
		d.OOMKills = events["oom_kill"]
		// memory.peak came with Linux 5.19.
		if d.MemoryMaxUsage, d.HasMemoryMaxUsage, err = readOptional(filepath.Join(dir, "memory.peak")); err != nil {
			return d, err
		}
		if d.TasksMax, err = readPidsMax(filepath.Join(dir, "pids.max")); err != nil {
			return d, err
		}
		d.Processes, err = countLines(dir, "cgroup.procs")
		return d, err
	}
	cpuDir, memDir := filepath.Join(root, "cpuacct", path), filepath.Join(root, "memory", path)
	cpu, err := readKeyed(filepath.Join(cpuDir, "cpuacct.stat"))
	if err != nil {
		return d, err
	}
	d.CPUUserNanos, d.CPUSystemNanos = cpu["user"]*(1e9/userHZ), cpu["system"]*(1e9/userHZ)
	oom, err := readKeyed(filepath.Join(memDir, "memory.oom_control"))
	if err != nil {
		return d, err
	}
	d.OOMKills = oom["oom_kill"] // Linux 4.13+; absent reads as 0
	if d.MemoryMaxUsage, d.HasMemoryMaxUsage, err = readOptional(filepath.Join(memDir, "memory.max_usage_in_bytes")); err != nil {
		return d, err
	}
	if d.MemoryFailcnt, d.HasMemoryFailcnt, err = readOptional(filepath.Join(memDir, "memory.failcnt")); err != nil {
		return d, err
	}
	if d.TasksMax, err = readPidsMax(filepath.Join(root, "pids", path, "pids.max")); err != nil {
		return d, err
	}
	d.Processes, err = countLines(cpuDir, "cgroup.procs")
	return d, err
}

// readOptional reads a number from a file a kernel may not have.
func readOptional(path string) (uint64, bool, error) {
	v, err := readUint(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	return v, err == nil, err
}

// readPidsMax reads pids.max; "max" and a missing controller are 0.
func readPidsMax(path string) (uint64, error) {
	v, err := readLimit(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	return v, err
}
