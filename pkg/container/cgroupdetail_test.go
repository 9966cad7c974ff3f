// SPDX-License-Identifier: Apache-2.0

package container

import (
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
		"cpuacct/pod/c/cpuacct.stat":             "user 250\nsystem 30\n",
		"cpuacct/pod/c/cgroup.procs":             "1\n7\n",
		"memory/pod/c/memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
		"memory/pod/c/memory.max_usage_in_bytes": "4096\n",
		"memory/pod/c/memory.failcnt":            "6\n",
		"pids/pod/c/pids.max":                    "max\n",
	})
	d, err := readCgroupDetailAt(root, "/pod/c", false)
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 2500000000, CPUSystemNanos: 300000000, Processes: 2, OOMKills: 2,
		MemoryMaxUsage: 4096, HasMemoryMaxUsage: true, MemoryFailcnt: 6, HasMemoryFailcnt: true}
	if d != want {
		t.Fatalf("got %+v want %+v", d, want)
	}
}

// v2 has no failcnt, and memory.peak only on newer kernels.
func TestCgroupV2Detail(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"pod/c/cpu.stat":      "usage_usec 9\nuser_usec 7\nsystem_usec 2\n",
		"pod/c/memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
		"pod/c/pids.max":      "512\n",
		"pod/c/cgroup.procs":  "42\n",
	})
	d, err := readCgroupDetailAt(root, "/pod/c", true)
	if err != nil {
		t.Fatal(err)
	}
	want := CgroupDetail{CPUUserNanos: 7000, CPUSystemNanos: 2000, Processes: 1, TasksMax: 512, OOMKills: 1}
	if d != want {
		t.Fatalf("got %+v want %+v", d, want)
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
