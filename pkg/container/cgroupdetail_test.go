// SPDX-License-Identifier: Apache-2.0

package container

import (
	"net"
	"os"
	"reflect"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/sandbox"
)

// Without the pids controller the processes of the whole subtree are
// counted (a pod cgroup holds its containers' cgroups), and v1's "no
// limit" value reads as no limit.
func TestCgroupV1TasksWithoutPidsController(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("/pod", map[string]string{"cpuacct/cgroup.procs": "10\n"}))
	writeTree(t, root, map[string]string{"cpuacct/pod/a/cgroup.procs": "11\n12\n13\n", "cpuacct/pod/b/cgroup.procs": "14\n"})
	u, err := v1Hierarchy(root, "memory", "cpuacct", "cpu").readCgroupUsage("/pod")
	if err != nil {
		t.Fatal(err)
	}
	if u.Tasks != 5 || u.MemoryLimit != 0 {
		t.Fatalf("tasks %d limit %d, want 5 and 0", u.Tasks, u.MemoryLimit)
	}
}

func TestCgroupV1Detail(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v1Files("/pod/c", map[string]string{
		"cpuacct/cpuacct.stat":                            "user 250\nsystem 30\n",
		"cpuacct/cgroup.procs":                            "999999998\n999999999\n", // gone: no descriptors to count
		"cpu/cpu.stat":                                    "nr_periods 40\nnr_throttled 3\nthrottled_time 5000\n",
		"cpu/cpu.cfs_period_us":                           "100000\n",
		"cpu/cpu.shares":                                  "1024\n",
		"memory/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
		"memory/memory.stat":                              "pgfault 9\npgmajfault 1\ntotal_pgfault 99\n",
		"memory/memory.max_usage_in_bytes":                "4096\n",
		"memory/memory.failcnt":                           "6\n",
		"memory/memory.kmem.usage_in_bytes":               "512\n",
		"memory/memory.kmem.max_usage_in_bytes":           "1024\n",
		"memory/memory.kmem.failcnt":                      "0\n",
		"memory/memory.memsw.usage_in_bytes":              "0\n",
		"memory/memory.memsw.max_usage_in_bytes":          "0\n",
		"memory/memory.memsw.failcnt":                     "0\n",
		"memory/memory.memsw.limit_in_bytes":              "67108864\n",
		"pids/pids.max":                                   "max\n",
		"blkio/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n",
		"blkio/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
	}))
	h := v1Hierarchy(root)
	h.swap = true
	d, err := h.readCgroupDetail("/pod/c")
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 2500000000, CPUSystemNanos: 300000000, CFSPeriods: 40, CFSThrottledPeriods: 3, CFSThrottledNanos: 5000,
		CPUPeriod: Optional{100000, true}, CPUShares: Optional{1024, true}, Processes: 2, OOMKills: 2, PageFaultsLocal: 9, MajorPageFaultsLocal: 1,
		MemoryMaxUsage: Optional{4096, true}, MemoryFailcnt: Optional{6, true}, MemoryKernel: Optional{512, true}, SwapLimit: Optional{64 << 20, true},
		IO: []BlockIO{{Major: 8, Minor: 0, ReadBytes: 4096, WriteBytes: 8192, Reads: 1, Writes: 2}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
}

// v2 has no memsw, counts failures in memory.events, and has memory.peak
// only on newer kernels; cpu.weight converts back to shares; io.stat's
// devices come back in device order.
func TestCgroupV2Detail(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, v2Files("/pod/c", map[string]string{
		"cpu.stat":            "usage_usec 9\nuser_usec 7\nsystem_usec 2\nnr_periods 5\nnr_throttled 1\nthrottled_usec 3\n",
		"cpu.max":             "20000 100000\n",
		"cpu.weight":          "100\n",
		"memory.events":       "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"memory.stat":         "pgfault 12\npgmajfault 0\nkernel 2048\n",
		"memory.swap.current": "0\n",
		"memory.swap.max":     "max\n",
		"pids.max":            "512\n",
		"cgroup.procs":        "999999999\n",
		"io.stat":             "259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n8:0 rbytes=1 wbytes=2 rios=1 wios=1\n",
	}))
	d, err := hierarchy{v2: true, unified: root, swap: true}.readCgroupDetail("/pod/c")
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 7000, CPUSystemNanos: 2000, CFSPeriods: 5, CFSThrottledPeriods: 1, CFSThrottledNanos: 3000,
		CPUPeriod: Optional{100000, true}, CPUShares: Optional{2 + 99*262142/9999, true}, Processes: 1, TasksMax: 512, OOMKills: 1, PageFaultsLocal: 12,
		MemoryFailcnt: Optional{3, true}, MemoryKernel: Optional{2048, true}, SwapLimit: Optional{0, true},
		IO: []BlockIO{{Major: 8, Minor: 0, ReadBytes: 1, WriteBytes: 2, Reads: 1, Writes: 1}, {Major: 259, Minor: 0, ReadBytes: 100, WriteBytes: 200, Reads: 3, Writes: 4}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v\nwant %+v", d, want)
	}
}

// Where the kernel lacks a figure it is missing, not 0: no memory.peak
// before 5.19, no swap limit without swap accounting, no CPU period or
// shares without the cpu controller.
func TestCgroupV2DetailMissingFigures(t *testing.T) {
	root := t.TempDir()
	files := v2Files("/c", map[string]string{"cgroup.controllers": "memory pids\n"})
	delete(files, "/c/cpu.max")
	delete(files, "/c/cpu.weight")
	writeTree(t, root, files)
	d, err := hierarchy{v2: true, unified: root}.readCgroupDetail("/c")
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Optional{"max usage": d.MemoryMaxUsage, "kernel": d.MemoryKernel, "swap limit": d.SwapLimit, "period": d.CPUPeriod, "shares": d.CPUShares} {
		if o.Ok {
			t.Errorf("%s reported as %d", name, o.Value)
		}
	}
}

// Every descriptor of every process is counted, sockets apart; this
// test's own process is one, and a process gone meanwhile is none.
func TestCountFDs(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fds, sockets := countFDs([]int{os.Getpid(), 999999999})
	if fds < 3 || sockets < 1 || sockets > fds {
		t.Fatalf("fds %d sockets %d", fds, sockets)
	}
	if n, _ := countFDs(nil); n != 0 {
		t.Fatalf("no processes, %d fds", n)
	}
}

// The kubelet's pod cgroup is the pod's figures; without a parent of its
// own the pod is only its pause's cgroup (the default parent is shared).
func TestPodCgroupDir(t *testing.T) {
	withParent := func(p, cgpath string) *sandbox.Record {
		return &sandbox.Record{CgroupsPath: cgpath, Config: &runtimeapi.PodSandboxConfig{Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: p}}}
	}
	for _, tc := range []struct {
		driver string
		pod    *sandbox.Record
		dir    string
		own    bool
	}{
		{"cgroupfs", withParent("/kubepods/burstable/pod1", "/kubepods/burstable/pod1/podshim-abc"), "/kubepods/burstable/pod1", true},
		{"cgroupfs", withParent("", "/podshim/podshim-abc"), "/podshim/podshim-abc", false},
		{"systemd", withParent("kubepods-burstable-pod1.slice", "kubepods-burstable-pod1.slice:podshim:abc"),
			"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice", true},
	} {
		dir, own, err := podCgroupDir(tc.driver, tc.pod)
		if err != nil || dir != tc.dir || own != tc.own {
			t.Errorf("%s %s: got %q %v %v, want %q %v", tc.driver, tc.pod.CgroupsPath, dir, own, err, tc.dir, tc.own)
		}
	}
}
