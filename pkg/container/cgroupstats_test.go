// SPDX-License-Identifier: Apache-2.0

package container

import (
	"os"
	"path/filepath"
	"testing"
)

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The kubelet evicts on the working set: usage minus inactive file cache.
func TestCgroupV1Usage(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"cpuacct/pod/c/cpuacct.usage":        "123456789\n",
		"memory/pod/c/memory.usage_in_bytes": "10000000\n",
		"memory/pod/c/memory.stat":           "cache 5\ntotal_cache 7000\ntotal_mapped_file 300\ntotal_swap 9\ntotal_inactive_file 4000000\ntotal_rss 3000000\ntotal_pgfault 77\ntotal_pgmajfault 2\n",
		"memory/pod/c/memory.limit_in_bytes": "83886080\n",
		"pids/pod/c/pids.current":            "3\n",
	})
	u, err := readCgroupUsageAt(root, "/pod/c", false)
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
	writeTree(t, root, map[string]string{
		"pod/c/cpu.stat":       "usage_usec 2500\nuser_usec 2000\n",
		"pod/c/memory.current": "8000000\n",
		"pod/c/memory.stat":    "anon 3000000\nfile 5000\nfile_mapped 40\ninactive_file 9000000\npgfault 12\npgmajfault 1\n",
		"pod/c/memory.max":     "max\n",
		"pod/c/pids.current":   "2\n",
	})
	u, err := readCgroupUsageAt(root, "/pod/c", true)
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

func TestMissingCgroupIsAnError(t *testing.T) {
	if _, err := readCgroupUsageAt(t.TempDir(), "/gone", false); err == nil {
		t.Fatal("a missing cgroup should be reported")
	}
}
