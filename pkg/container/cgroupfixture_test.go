// SPDX-License-Identifier: Apache-2.0

package container

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/cgroups"
)

func init() {
	// The library refuses files that are not on cgroupfs unless told it
	// runs in tests; the fixtures are plain files under t.TempDir().
	cgroups.TestMode = true
}

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

// v1Hierarchy is a v1 node whose controllers are mounted at root/<name>.
func v1Hierarchy(root string, controllers ...string) hierarchy {
	if len(controllers) == 0 {
		controllers = v1Controllers
	}
	h := hierarchy{mounts: map[string]string{}}
	for _, c := range controllers {
		h.mounts[c] = filepath.Join(root, c)
	}
	return h
}

// v1Files is a v1 cgroup at rel with every file the library needs, as a
// kernel has them; extra adds to or replaces them.
func v1Files(rel string, extra map[string]string) map[string]string {
	files := map[string]string{
		"cpuacct/cpuacct.usage":            "0\n",
		"cpuacct/cpuacct.stat":             "user 0\nsystem 0\n",
		"cpuacct/cpuacct.usage_percpu":     "0 0\n",
		"cpuacct/cgroup.procs":             "",
		"cpu/cpu.stat":                     "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n",
		"cpu/cpu.cfs_period_us":            "100000\n",
		"cpu/cpu.shares":                   "1024\n",
		"memory/memory.stat":               "",
		"memory/memory.usage_in_bytes":     "0\n",
		"memory/memory.max_usage_in_bytes": "0\n",
		"memory/memory.failcnt":            "0\n",
		"memory/memory.limit_in_bytes":     "9223372036854771712\n",
		"memory/memory.use_hierarchy":      "1\n",
		"memory/memory.oom_control":        "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
		"pids/pids.current":                "0\n",
		"pids/pids.max":                    "max\n",
	}
	maps.Copy(files, extra)
	out := map[string]string{}
	for name, body := range files {
		ctl, file := filepath.Split(name)
		out[filepath.Join(ctl, rel, file)] = body
	}
	return out
}

// v2Files is a v2 cgroup at rel with the memory, pids, cpu and io
// controllers enabled; extra adds to or replaces its files.
func v2Files(rel string, extra map[string]string) map[string]string {
	files := map[string]string{
		"cgroup.controllers": "cpu io memory pids\n",
		"cgroup.procs":       "",
		"cpu.stat":           "usage_usec 0\nuser_usec 0\nsystem_usec 0\n",
		"cpu.max":            "max 100000\n",
		"cpu.weight":         "100\n",
		"memory.current":     "0\n",
		"memory.max":         "max\n",
		"memory.stat":        "",
		"memory.events":      "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n",
		"pids.current":       "0\n",
		"pids.max":           "max\n",
		"io.stat":            "",
	}
	maps.Copy(files, extra)
	out := map[string]string{}
	for name, body := range files {
		out[filepath.Join(rel, name)] = body
	}
	return out
}
