// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	cgroupsv1 "github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
	"github.com/opencontainers/cgroups/fscommon"
)

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
	// shares (on v2, cpu.weight converted back as cAdvisor does). Both
	// are missing on v2 where the cpu controller is not enabled.
	CPUPeriod, CPUShares Optional
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

// detailControllers are the controllers CgroupDetail is made of.
const detailControllers = cgroups.CPU | cgroups.Memory | cgroups.Pids | cgroups.IO

// readCgroupDetail reads everything, block I/O and descriptors included.
func (h hierarchy) readCgroupDetail(path string) (CgroupDetail, error) {
	r, err := h.read(path, detailControllers)
	if err != nil {
		return CgroupDetail{}, err
	}
	d := detailOf(r, h.swap)
	// Settings and event counters are no stats to the library; its file
	// helpers read them.
	if r.v2 {
		err = readSettingsV2(&d, r.dir(""))
	} else {
		err = readSettingsV1(&d, r)
	}
	if err != nil {
		return d, gone(err, r.dir("memory"))
	}
	pids, err := cgroups.GetAllPids(r.dir("cpuacct"))
	if err != nil {
		return d, gone(err, r.dir("cpuacct"))
	}
	d.Processes = uint64(len(pids))
	d.FDs, d.Sockets = countFDs(pids)
	return d, nil
}

// detailOf takes the metrics' figures from the library's stats. Where the
// library reads a file the kernel lacks as zeros, the figure is Ok only
// when its file must have been there.
func detailOf(r cgroupRead, swap bool) CgroupDetail {
	cpu, mem := r.stats.CpuStats, r.stats.MemoryStats
	d := CgroupDetail{
		CPUUserNanos: cpu.CpuUsage.UsageInUsermode, CPUSystemNanos: cpu.CpuUsage.UsageInKernelmode,
		CFSPeriods: cpu.ThrottlingData.Periods, CFSThrottledPeriods: cpu.ThrottlingData.ThrottledPeriods,
		CFSThrottledNanos: cpu.ThrottlingData.ThrottledTime,
		TasksMax:          r.stats.PidsStats.Limit,
		PageFaultsLocal:   mem.Stats["pgfault"], MajorPageFaultsLocal: mem.Stats["pgmajfault"],
		IO: blockIOOf(r.stats.BlkioStats),
	}
	if r.v2 {
		// memory.peak came with Linux 5.19; a cgroup that ever ran a
		// process has a peak above 0.
		d.MemoryMaxUsage = Optional{mem.Usage.MaxUsage, mem.Usage.MaxUsage > 0}
		k, ok := mem.Stats["kernel"] // Linux 5.18+
		d.MemoryKernel = Optional{k, ok}
		d.SwapLimit = Optional{limitOf(mem.SwapOnlyUsage.Limit), swap}
		return d
	}
	d.MemoryMaxUsage = Optional{mem.Usage.MaxUsage, true}
	d.MemoryFailcnt = Optional{mem.Usage.Failcnt, true}
	// The kmem files are optional in the kernel; when they are there
	// their usage or peak is above 0 in any cgroup that ran a process.
	d.MemoryKernel = Optional{mem.KernelUsage.Usage, mem.KernelUsage != cgroups.MemoryData{}}
	d.SwapLimit = Optional{limitOf(mem.SwapUsage.Limit), swap}
	return d
}

func readSettingsV1(d *CgroupDetail, r cgroupRead) error {
	cpu := r.dir("cpu")
	if cpu == "" {
		return fmt.Errorf("no cgroup v1 cpu controller for %s", r.dir("cpuacct"))
	}
	period, err := fscommon.GetCgroupParamUint(cpu, "cpu.cfs_period_us")
	if err != nil {
		return err
	}
	shares, err := fscommon.GetCgroupParamUint(cpu, "cpu.shares")
	if err != nil {
		return err
	}
	d.CPUPeriod, d.CPUShares = Optional{period, true}, Optional{shares, true}
	d.OOMKills, err = cgroupsv1.OOMKillCount(r.dir("memory")) // Linux 4.13+; before, 0
	return err
}

func readSettingsV2(d *CgroupDetail, dir string) error {
	var err error
	if d.OOMKills, err = fs2.OOMKillCount(dir); err != nil {
		return err
	}
	failcnt, err := fscommon.GetValueByKey(dir, "memory.events", "max")
	if err != nil {
		return err
	}
	d.MemoryFailcnt = Optional{failcnt, true}
	// cpu.max ("quota period") and cpu.weight exist only where the cpu
	// controller is enabled.
	if s, err := fscommon.GetCgroupParamString(dir, "cpu.max"); err == nil {
		f := strings.Fields(s)
		if len(f) != 2 {
			return fmt.Errorf("%s/cpu.max: %q", dir, s)
		}
		p, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			return fmt.Errorf("%s/cpu.max: %w", dir, err)
		}
		d.CPUPeriod = Optional{p, true}
	} else if !notExist(err) {
		return err
	}
	// cpu.weight 1..10000 back to shares 2..262144 with cAdvisor's linear
	// formula, so container_spec_cpu_shares reads as cAdvisor's would.
	if w, err := fscommon.GetCgroupParamUint(dir, "cpu.weight"); err == nil && w > 0 {
		d.CPUShares = Optional{2 + (w-1)*262142/9999, true}
	} else if err != nil && !notExist(err) {
		return err
	}
	return nil
}
