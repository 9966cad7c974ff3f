// SPDX-License-Identifier: Apache-2.0

package container

import (
	"net"
	"os"
	"reflect"
	"strconv"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/sandbox"
)

// Without the pids controller the tasks of the whole subtree are counted
// (a pod cgroup holds its containers' cgroups), and v1's "no limit" value
// reads as no limit.
func TestCgroupV1TasksWithoutPidsController(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cpuacct/pod/cpuacct.usage":        "1\n",
		"cpuacct/pod/tasks":                "10\n",
		"cpuacct/pod/a/tasks":              "11\n12\n13\n",
		"cpuacct/pod/b/tasks":              "14\n",
		"memory/pod/memory.usage_in_bytes": "100\n",
		"memory/pod/memory.stat":           "total_rss 1\n",
		"memory/pod/memory.limit_in_bytes": "9223372036854771712\n",
	})
	u, err := readCgroupUsageAt(root, "/pod", false)
	if err != nil {
		t.Fatal(err)
	}
	if u.Tasks != 5 || u.MemoryLimit != 0 {
		t.Fatalf("tasks %d limit %d, want 5 and 0", u.Tasks, u.MemoryLimit)
	}
}

func TestCgroupV1Detail(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cpuacct/pod/c/cpuacct.stat":                            "user 250\nsystem 30\n",
		"cpuacct/pod/c/cgroup.procs":                            "1\n7\n",
		"cpu/pod/c/cpu.stat":                                    "nr_periods 40\nnr_throttled 3\nthrottled_time 5000\n",
		"cpu/pod/c/cpu.cfs_period_us":                           "100000\n",
		"cpu/pod/c/cpu.shares":                                  "1024\n",
		"memory/pod/c/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
		"memory/pod/c/memory.stat":                              "pgfault 9\npgmajfault 1\ntotal_pgfault 99\n",
		"memory/pod/c/memory.max_usage_in_bytes":                "4096\n",
		"memory/pod/c/memory.failcnt":                           "6\n",
		"memory/pod/c/memory.kmem.usage_in_bytes":               "512\n",
		"memory/pod/c/memory.memsw.limit_in_bytes":              "67108864\n",
		"pids/pod/c/pids.max":                                   "max\n",
		"blkio/pod/c/blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n",
		"blkio/pod/c/blkio.throttle.io_serviced_recursive":      "8:0 Read 1\n8:0 Write 2\nTotal 3\n",
	})
	d, err := readCgroupDetailAt(root, "/pod/c", false)
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 2500000000, CPUSystemNanos: 300000000, CFSPeriods: 40, CFSThrottledPeriods: 3, CFSThrottledNanos: 5000,
		CPUPeriod: 100000, CPUShares: 1024, Processes: 2, OOMKills: 2, PageFaultsLocal: 9, MajorPageFaultsLocal: 1,
		MemoryMaxUsage: Optional{4096, true}, MemoryFailcnt: Optional{6, true}, MemoryKernel: Optional{512, true}, SwapLimit: Optional{64 << 20, true}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v want %+v", d, want)
	}
	io, err := readBlockIOAt(root, "/pod/c", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []BlockIO{{Major: 8, Minor: 0, ReadBytes: 4096, WriteBytes: 8192, Reads: 1, Writes: 2}}; !reflect.DeepEqual(io, want) {
		t.Fatalf("block I/O %+v, want %+v", io, want)
	}
}

// v2 has no memsw, counts failures in memory.events, and has memory.peak
// only on newer kernels; cpu.weight converts back to shares.
func TestCgroupV2Detail(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"pod/c/cpu.stat":        "usage_usec 9\nuser_usec 7\nsystem_usec 2\nnr_periods 5\nnr_throttled 1\nthrottled_usec 3\n",
		"pod/c/cpu.max":         "20000 100000\n",
		"pod/c/cpu.weight":      "100\n",
		"pod/c/memory.events":   "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"pod/c/memory.stat":     "pgfault 12\npgmajfault 0\nkernel 2048\n",
		"pod/c/memory.swap.max": "max\n",
		"pod/c/pids.max":        "512\n",
		"pod/c/cgroup.procs":    "42\n",
		"pod/c/io.stat":         "259:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n",
	})
	d, err := readCgroupDetailAt(root, "/pod/c", true)
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 7000, CPUSystemNanos: 2000, CFSPeriods: 5, CFSThrottledPeriods: 1, CFSThrottledNanos: 3000,
		CPUPeriod: 100000, CPUShares: 2 + 99*262142/9999, Processes: 1, TasksMax: 512, OOMKills: 1, PageFaultsLocal: 12,
		MemoryFailcnt: Optional{3, true}, MemoryKernel: Optional{2048, true}, SwapLimit: Optional{0, true}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got %+v want %+v", d, want)
	}
	io, err := readBlockIOAt(root, "/pod/c", true)
	if err != nil {
		t.Fatal(err)
	}
	if want := []BlockIO{{Major: 259, Minor: 0, ReadBytes: 100, WriteBytes: 200, Reads: 3, Writes: 4}}; !reflect.DeepEqual(io, want) {
		t.Fatalf("block I/O %+v, want %+v", io, want)
	}
}

// Every descriptor of every process of the subtree is counted, sockets
// apart; this test's own process is the one in the fake cgroup.
func TestCountFDs(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"cgroup.procs": strconv.Itoa(os.Getpid()) + "\n", "gone/cgroup.procs": "999999999\n"})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fds, sockets, err := countFDs(dir)
	if err != nil || fds < 3 || sockets < 1 || sockets > fds {
		t.Fatalf("fds %d sockets %d err %v", fds, sockets, err)
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
