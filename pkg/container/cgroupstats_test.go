// SPDX-License-Identifier: Apache-2.0

package container

import (
	"testing"
)

// The kubelet evicts on the working set: usage minus inactive file cache,
// from the hierarchy's (total_*) figures on v1.
func TestCgroupV1Usage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("/pod/c", map[string]string{
		"cpuacct/cpuacct.usage":        "123456789\n",
		"memory/memory.usage_in_bytes": "10000000\n",
		"memory/memory.stat":           "cache 5\ntotal_cache 7000\ntotal_mapped_file 300\ntotal_swap 9\ntotal_inactive_file 4000000\ntotal_rss 3000000\ntotal_pgfault 77\ntotal_pgmajfault 2\n",
		"memory/memory.limit_in_bytes": "83886080\n",
		"pids/pids.current":            "3\n",
	}))
	u, err := v1Hierarchy(root).readCgroupUsage("/pod/c")
	if err != nil {
		t.Fatal(err)
	}
	want := cgroupUsage{CPUNanos: 123456789, MemoryWorkingSet: 6000000, MemoryUsage: 10000000, MemoryRSS: 3000000, PageFaults: 77, MajorPageFaults: 2,
		MemoryCache: 7000, MemoryMappedFile: 300, MemorySwap: 9, MemoryLimit: 83886080, Tasks: 3}
	if u != want {
		t.Fatalf("got %+v want %+v", u, want)
	}
}

func TestCgroupV2Usage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("/pod/c", map[string]string{
		"cpu.stat":       "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n",
		"memory.current": "8000000\n",
		"memory.stat":    "anon 3000000\nfile 5000\nfile_mapped 40\ninactive_file 9000000\npgfault 12\npgmajfault 1\n",
		"pids.current":   "2\n",
	}))
	u, err := hierarchy{v2: true, unified: root}.readCgroupUsage("/pod/c")
	if err != nil {
		t.Fatal(err)
	}
	// inactive_file above usage must not wrap around.
	// "max" is no limit; no memory.swap.current (swap accounting off) is 0.
	want := cgroupUsage{CPUNanos: 2500000, MemoryWorkingSet: 0, MemoryUsage: 8000000, MemoryRSS: 3000000, PageFaults: 12, MajorPageFaults: 1,
		MemoryCache: 5000, MemoryMappedFile: 40, Tasks: 2}
	if u != want {
		t.Fatalf("got %+v want %+v", u, want)
	}
}

// Under the systemd driver the cgroup is where runc's systemd manager puts
// it: the slice expanded, the container a scope named prefix-name.
func TestSystemdPathUsage(t *testing.T) {
	dir, err := cgroupDir("systemd", "kubepods-burstable-pod1.slice:podshim:abc")
	if err != nil {
		t.Fatal(err)
	}
	const want = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/podshim-abc.scope"
	if dir != want {
		t.Fatalf("dir %q, want %q", dir, want)
	}
	v1, v2 := t.TempDir(), t.TempDir()
	writeTree(t, v1, v1Files(want, map[string]string{"memory/memory.usage_in_bytes": "4096\n"}))
	writeTree(t, v2, v2Files(want, map[string]string{"memory.current": "8192\n"}))
	for _, tc := range []struct {
		h     hierarchy
		usage uint64
	}{{v1Hierarchy(v1), 4096}, {hierarchy{v2: true, unified: v2}, 8192}} {
		u, err := tc.h.readCgroupUsage(dir)
		if err != nil || u.MemoryUsage != tc.usage {
			t.Errorf("v2=%v: usage %d, %v; want %d", tc.h.v2, u.MemoryUsage, err, tc.usage)
		}
	}
}

// A cgroup that is not there is a container that is not running; the
// library alone would read it as zeros.
func TestMissingCgroupIsNotExist(t *testing.T) {
	root := t.TempDir()
	for _, h := range []hierarchy{v1Hierarchy(root), {v2: true, unified: root}} {
		if _, err := h.readCgroupUsage("/gone"); !notExist(err) {
			t.Errorf("v2=%v: %v, want not exist", h.v2, err)
		}
		if _, err := h.readCgroupDetail("/gone"); !notExist(err) {
			t.Errorf("v2=%v detail: %v, want not exist", h.v2, err)
		}
	}
	// v1: a cgroup gone from memory is gone, whatever cpuacct still has.
	writeTree(t, root, map[string]string{"cpuacct/half/cpuacct.usage": "1\n"})
	if _, err := v1Hierarchy(root).readCgroupUsage("/half"); !notExist(err) {
		t.Errorf("half-removed cgroup: %v, want not exist", err)
	}
}

// A cgroup that is there but cannot be read is an error, never zeros.
func TestUnreadableCgroupIsAnError(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("/bad", map[string]string{"memory/memory.usage_in_bytes": "garbage\n"}))
	if _, err := v1Hierarchy(root).readCgroupUsage("/bad"); err == nil || notExist(err) {
		t.Errorf("v1 garbage: %v, want an error", err)
	}
	// Without the memory controller v2 has no memory.stat at all.
	writeTree(t, root, v2Files("/nomem", map[string]string{"cgroup.controllers": "cpu pids\n"}))
	if _, err := (hierarchy{v2: true, unified: root}).readCgroupUsage("/nomem"); err == nil || notExist(err) {
		t.Errorf("v2 without memory: %v, want an error", err)
	}
	// A v1 node must mount memory and cpuacct.
	if _, err := v1Hierarchy(root, "cpu").readCgroupUsage("/bad"); err == nil || notExist(err) {
		t.Errorf("v1 without memory mounted: %v, want an error", err)
	}
}

// v2 without the pids controller counts the subtree's processes; with
// swap accounted the swap figure is memory.swap.current.
func TestCgroupV2UsageSwapAndNoPids(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("/pod", map[string]string{
		"cgroup.controllers":  "cpu memory\n",
		"cgroup.procs":        "10\n",
		"memory.swap.current": "4096\n",
		"memory.max":          "83886080\n",
	}))
	writeTree(t, root, map[string]string{"pod/a/cgroup.procs": "11\n12\n"})
	u, err := hierarchy{v2: true, unified: root, swap: true}.readCgroupUsage("/pod")
	if err != nil {
		t.Fatal(err)
	}
	if u.Tasks != 3 || u.MemorySwap != 4096 || u.MemoryLimit != 83886080 {
		t.Fatalf("tasks %d swap %d limit %d, want 3, 4096 and 83886080", u.Tasks, u.MemorySwap, u.MemoryLimit)
	}
}

// A figure whose file is missing or incomplete is an error, not a zero:
// the stats RPCs read only the files their figures come from.
func TestMissingUsageFileIsAnError(t *testing.T) {
	root := t.TempDir()
	files := v1Files("/c", nil)
	delete(files, "memory/c/memory.stat")
	writeTree(t, root, files)
	if _, err := v1Hierarchy(root).readCgroupUsage("/c"); err == nil || notExist(err) {
		t.Errorf("v1 without memory.stat: %v, want an error", err)
	}
	writeTree(t, root, v2Files("/v2", map[string]string{"cpu.stat": "user_usec 1\n"}))
	if _, err := (hierarchy{v2: true, unified: root}).readCgroupUsage("/v2"); err == nil || notExist(err) {
		t.Errorf("v2 cpu.stat without usage_usec: %v, want an error", err)
	}
	// Swap accounted but no memory.swap.current: the node is not what
	// the daemon found at start.
	writeTree(t, root, v2Files("/noswap", nil))
	if _, err := (hierarchy{v2: true, unified: root, swap: true}).readCgroupUsage("/noswap"); err == nil || notExist(err) {
		t.Errorf("v2 swap accounted without memory.swap.current: %v, want an error", err)
	}
}
