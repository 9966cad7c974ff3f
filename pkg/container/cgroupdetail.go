// SPDX-License-Identifier: Apache-2.0

package container

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// userHZ is the unit of v1's cpuacct.stat (USER_HZ, 100 on every Linux
// architecture the kubelet runs on).
const userHZ = 100

// Optional is a figure a kernel or configuration may not have.
type Optional struct {
	Value uint64
	Ok    bool
}

// CgroupDetail is what the cAdvisor-named metrics want beyond the figures
// the stats RPCs report; only ListPodSandboxMetrics pays for reading it.
type CgroupDetail struct {
	CPUUserNanos, CPUSystemNanos uint64
	// CFS bandwidth: enforcement periods, throttled ones, time throttled.
	CFSPeriods, CFSThrottledPeriods, CFSThrottledNanos uint64
	// CPUPeriod is the CFS period in microseconds; CPUShares the v1
	// shares (on v2, cpu.weight converted back as cAdvisor does).
	CPUPeriod, CPUShares uint64
	// Processes counts the processes (not threads) in the subtree.
	Processes uint64
	// TasksMax is pids.max, 0 when unlimited or without the controller.
	TasksMax uint64
	OOMKills uint64
	// Page faults of the cgroup itself (the hierarchy's are in Usage).
	PageFaultsLocal, MajorPageFaultsLocal uint64
	// v1 max_usage_in_bytes / v2 memory.peak (5.19+); v1 failcnt / v2
	// memory.events "max"; v1 kmem usage / v2 memory.stat "kernel";
	// the memory+swap (v1) or swap (v2) limit, 0 when none.
	MemoryMaxUsage, MemoryFailcnt, MemoryKernel, SwapLimit Optional
	// IO is the subtree's block I/O per device.
	IO []BlockIO
	// FDs and Sockets count the open descriptors of its processes.
	FDs, Sockets uint64
}

// readCgroupDetail reads everything, block I/O and descriptors included.
func readCgroupDetail(path string, v2 bool) (CgroupDetail, error) {
	d, err := readCgroupDetailAt(cgroupRoot, path, v2)
	if err != nil {
		return d, err
	}
	if d.IO, err = readBlockIO(path, v2); err != nil {
		return d, err
	}
	procs := filepath.Join(cgroupRoot, path)
	if !v2 {
		procs = filepath.Join(cgroupRoot, "cpuacct", path)
	}
	d.FDs, d.Sockets, err = countFDs(procs)
	return d, err
}

// readCgroupDetailAt reads below root, which tests point at a fake tree.
func readCgroupDetailAt(root, path string, v2 bool) (CgroupDetail, error) {
	if v2 {
		return readDetailV2(filepath.Join(root, path))
	}
	return readDetailV1(root, path)
}

func readDetailV2(dir string) (CgroupDetail, error) {
	var d CgroupDetail
	cpu, err := readKeyed(filepath.Join(dir, "cpu.stat"))
	if err != nil {
		return d, err
	}
	d.CPUUserNanos, d.CPUSystemNanos = cpu["user_usec"]*1000, cpu["system_usec"]*1000
	d.CFSPeriods, d.CFSThrottledPeriods, d.CFSThrottledNanos = cpu["nr_periods"], cpu["nr_throttled"], cpu["throttled_usec"]*1000
	// cpu.max is "quota period"; cpu.weight 1..10000 (default 100).
	if f, err := readFields(filepath.Join(dir, "cpu.max")); err == nil && len(f) == 2 {
		d.CPUPeriod, _ = strconv.ParseUint(f[1], 10, 64)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return d, err
	}
	if w, ok, err := readOptional(filepath.Join(dir, "cpu.weight")); err != nil {
		return d, err
	} else if ok && w > 0 {
		d.CPUShares = 2 + (w-1)*262142/9999
	}
	events, err := readKeyed(filepath.Join(dir, "memory.events"))
	if err != nil {
		return d, err
	}
	d.OOMKills = events["oom_kill"]
	d.MemoryFailcnt = Optional{events["max"], true}
	mem, err := readKeyed(filepath.Join(dir, "memory.stat"))
	if err != nil {
		return d, err
	}
	d.PageFaultsLocal, d.MajorPageFaultsLocal = mem["pgfault"], mem["pgmajfault"]
	if k, ok := mem["kernel"]; ok { // Linux 5.18+
		d.MemoryKernel = Optional{k, true}
	}
	if d.MemoryMaxUsage, err = readOptionalFigure(filepath.Join(dir, "memory.peak")); err != nil {
		return d, err
	}
	if d.SwapLimit, err = readOptionalLimit(filepath.Join(dir, "memory.swap.max")); err != nil {
		return d, err
	}
	if d.TasksMax, err = readPidsMax(filepath.Join(dir, "pids.max")); err != nil {
		return d, err
	}
	d.Processes, err = countLines(dir, "cgroup.procs")
	return d, err
}

func readDetailV1(root, path string) (CgroupDetail, error) {
	var d CgroupDetail
	cpuDir, memDir := filepath.Join(root, "cpuacct", path), filepath.Join(root, "memory", path)
	cpuacct, err := readKeyed(filepath.Join(cpuDir, "cpuacct.stat"))
	if err != nil {
		return d, err
	}
	d.CPUUserNanos, d.CPUSystemNanos = cpuacct["user"]*(1e9/userHZ), cpuacct["system"]*(1e9/userHZ)
	// cpu and cpuacct are usually one hierarchy, mounted under both names.
	cfsDir := filepath.Join(root, "cpu", path)
	cpu, err := readKeyed(filepath.Join(cfsDir, "cpu.stat"))
	if err != nil {
		return d, err
	}
	d.CFSPeriods, d.CFSThrottledPeriods, d.CFSThrottledNanos = cpu["nr_periods"], cpu["nr_throttled"], cpu["throttled_time"]
	if d.CPUPeriod, err = readUint(filepath.Join(cfsDir, "cpu.cfs_period_us")); err != nil {
		return d, err
	}
	if d.CPUShares, err = readUint(filepath.Join(cfsDir, "cpu.shares")); err != nil {
		return d, err
	}
	oom, err := readKeyed(filepath.Join(memDir, "memory.oom_control"))
	if err != nil {
		return d, err
	}
	d.OOMKills = oom["oom_kill"] // Linux 4.13+; absent reads as 0
	mem, err := readKeyed(filepath.Join(memDir, "memory.stat"))
	if err != nil {
		return d, err
	}
	d.PageFaultsLocal, d.MajorPageFaultsLocal = mem["pgfault"], mem["pgmajfault"]
	for _, f := range []struct {
		name string
		to   *Optional
	}{
		{"memory.max_usage_in_bytes", &d.MemoryMaxUsage},
		{"memory.failcnt", &d.MemoryFailcnt},
		{"memory.kmem.usage_in_bytes", &d.MemoryKernel},
	} {
		if *f.to, err = readOptionalFigure(filepath.Join(memDir, f.name)); err != nil {
			return d, err
		}
	}
	// memsw files exist only with swap accounting on.
	if d.SwapLimit, err = readOptionalLimit(filepath.Join(memDir, "memory.memsw.limit_in_bytes")); err != nil {
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

func readOptionalFigure(path string) (Optional, error) {
	v, ok, err := readOptional(path)
	return Optional{v, ok}, err
}

// readOptionalLimit reads a limit file a kernel may not have ("max" and
// v1's unlimited value are 0).
func readOptionalLimit(path string) (Optional, error) {
	v, err := readLimit(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Optional{}, nil
	}
	return Optional{v, err == nil}, err
}

// readPidsMax reads pids.max; "max" and a missing controller are 0.
func readPidsMax(path string) (uint64, error) {
	v, err := readLimit(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	return v, err
}

func readFields(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(data)), nil
}
