// SPDX-License-Identifier: Apache-2.0

package doctor

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	for in, want := range map[string][2]int{
		"6.1.0-18-amd64":   {6, 1},
		"6.18.44-fc-v1045": {6, 18},
		"4.14":             {4, 14},
		"5.4+":             {5, 4},
	} {
		major, minor, ok := parseRelease(in)
		if !ok || major != want[0] || minor != want[1] {
			t.Errorf("%q: %d.%d %v, want %v", in, major, minor, ok, want)
		}
	}
	if _, _, ok := parseRelease("garbage"); ok {
		t.Error("garbage parsed")
	}
}

// A v1 host with a hugetlb-only cgroup2 side mount, as on this project's CI.
func TestReadCgroupMountsHybrid(t *testing.T) {
	const mi = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	m := readCgroupMounts(strings.NewReader(mi))
	want := map[string][]string{
		"/sys/fs/cgroup/cpu,cpuacct": {"cpu", "cpuacct"},
		"/sys/fs/cgroup/memory":      {"memory"},
		"/sys/fs/cgroup/systemd":     nil,
	}
	if !reflect.DeepEqual(m.v1, want) {
		t.Errorf("v1 = %v, want %v", m.v1, want)
	}
	if !reflect.DeepEqual(m.v2, []string{"/sys/fs/cgroup/unified"}) {
		t.Errorf("v2 = %v", m.v2)
	}
}

// A container's view of a hybrid host: the runtime mounted its own
// /sys/fs/cgroup tree over one that already held the host's (buildah run
// under chroot isolation), so every cgroup mount point is listed twice.
// Each is reported once.
func TestReadCgroupMountsStackedListsEachMountOnce(t *testing.T) {
	const mi = `600 590 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
601 600 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
602 600 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
603 600 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
610 600 0:28 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
611 610 0:32 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory
612 610 0:36 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids
613 610 0:38 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw
`
	m := readCgroupMounts(strings.NewReader(mi))
	want := map[string][]string{
		"/sys/fs/cgroup/memory": {"memory"},
		"/sys/fs/cgroup/pids":   {"pids"},
	}
	if !reflect.DeepEqual(m.v1, want) {
		t.Errorf("v1 = %v, want %v", m.v1, want)
	}
	if !reflect.DeepEqual(m.v2, []string{"/sys/fs/cgroup/unified"}) {
		t.Errorf("v2 = %v, want the side mount once", m.v2)
	}
}

func TestMissingRequiredFailsTheVerdict(t *testing.T) {
	results := []Result{
		{Check: "kernel", Status: OK, Required: true, Detail: "Linux 6.1"},
		{Check: "CRIU", Status: Missing, Detail: "criu not in $PATH", TurnsOff: "checkpoints"},
	}
	if !PodsCanRun(results) {
		t.Fatal("an optional missing check must not stop pods")
	}
	var b bytes.Buffer
	if err := Write(&b, results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "checkpoints") || !strings.HasSuffix(b.String(), "pods can run on this node\n") {
		t.Fatalf("report:\n%s", b.String())
	}
	results = append(results, Result{Check: "runc", Status: Missing, Required: true, Detail: "not found", TurnsOff: "every pod"})
	if PodsCanRun(results) {
		t.Fatal("a required missing check must stop pods")
	}
	b.Reset()
	Write(&b, results)
	if !strings.Contains(b.String(), "missing (required)") || !strings.HasSuffix(b.String(), "pods cannot run on this node: runc\n") {
		t.Fatalf("report:\n%s", b.String())
	}
}
