// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// leakCheck is one PASS/FAIL line of phase 4's verdict.
type leakCheck struct {
	Name      string   `json:"name"`
	Pass      bool     `json:"pass"`
	Leftovers []string `json:"leftovers,omitempty"`
	// SettledMs is set when a check passed only after waiting: a monitor
	// may still be exiting when RemovePodSandbox returns.
	SettledMs float64 `json:"settled_ms,omitempty"`
	// FirstLook is what the first look found, when it was not clean.
	FirstLook []string `json:"first_look,omitempty"`
}

// settle is how long a check may take to come clean before it fails.
const settle = 5 * time.Second

// checkLeaks runs after every pod of the run was removed: whatever any of
// them left behind is a leak, whichever phase made it.
func checkLeaks(e *env) []leakCheck {
	ids := map[string]bool{}
	for _, p := range e.pods {
		ids[p.ID] = true
		for _, c := range p.Containers {
			ids[c] = true
		}
	}
	checks := []struct {
		name string
		find func() []string
	}{
		{"no mounts below the daemon's dirs", func() []string { return e.leftMounts(ids) }},
		{"no netns pins", func() []string { return dirEntries(filepath.Join(e.state, "network", "netns")) }},
		{"no host-local IP leases", func() []string { return e.leftLeases() }},
		{"no podshim- cgroups of the pods", func() []string { return leftCgroups(ids) }},
		{"no pause/monitor/container processes", func() []string { return e.leftProcesses(ids) }},
		{"no iptables/nftables rules for the pods", func() []string { return leftRules(ids) }},
		{"no pod files or records", func() []string { return e.leftFiles(ids) }},
	}
	var out []leakCheck
	for _, c := range checks {
		start := time.Now()
		left := c.find()
		first := left
		for len(left) > 0 && time.Since(start) < settle {
			time.Sleep(100 * time.Millisecond)
			left = c.find()
		}
		lc := leakCheck{Name: c.name, Pass: len(left) == 0, Leftovers: left}
		if lc.Pass && len(first) > 0 {
			lc.SettledMs = ms(time.Since(start))
			lc.FirstLook = first
		}
		out = append(out, lc)
	}
	return out
}

func (e *env) leftMounts(ids map[string]bool) []string {
	ms, err := readMounts()
	if err != nil {
		return []string{err.Error()}
	}
	var left []string
	for _, m := range ms {
		below := strings.HasPrefix(m.Point, e.work+"/")
		if (below && !e.mountBase[m.Point]) || mentionsAny(m.Point, ids) {
			left = append(left, m.FSType+" on "+m.Point)
		}
	}
	return left
}

// leftLeases lists host-local's lease files: named by the IP they hold.
// With every pod removed this daemon's network holds none.
func (e *env) leftLeases() []string {
	var left []string
	root := filepath.Join(e.state, "network", "host-local")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && net.ParseIP(d.Name()) != nil {
			left = append(left, p)
		}
		return nil
	})
	return left
}

// leftCgroups looks for podshim-<id> (cgroupfs driver: pause and
// containers side by side below the parent) in every hierarchy, a few
// levels deep: the parent is /podshim unless a pod names another.
func leftCgroups(ids map[string]bool) []string {
	var left []string
	for _, mnt := range cgroupMounts() {
		filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			if id, ok := strings.CutPrefix(d.Name(), "podshim-"); ok && ids[id] {
				left = append(left, p)
				return fs.SkipDir
			}
			if strings.Count(strings.TrimPrefix(p, mnt), "/") >= 4 {
				return fs.SkipDir
			}
			return nil
		})
	}
	return left
}

// leftProcesses: this daemon's monitors, the pods' pauses (same pid and
// start time), and anything still in a cgroup of one of the pods.
func (e *env) leftProcesses(ids map[string]bool) []string {
	var left []string
	for ref, pod := range monitors(e.state) {
		left = append(left, fmt.Sprintf("monitor pid %d of pod %s", ref.Pid, pod))
	}
	for _, p := range e.pods {
		if p.Pause.alive() {
			left = append(left, fmt.Sprintf("pause pid %d of pod %s", p.Pause.Pid, p.ID))
		}
	}
	for _, pid := range allPids() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err == nil && mentionsAny(string(data), ids) {
			left = append(left, fmt.Sprintf("pid %d %q in a pod's cgroup", pid, strings.Join(cmdline(pid), " ")))
		}
	}
	return left
}

// leftRules greps the whole ruleset for a pod's ID (the CNI plugins'
// comments carry it) or the bench subnet (masquerade and portmap rules
// name pod IPs). The fence rule names only the bridge.
func leftRules(ids map[string]bool) []string {
	var left []string
	for _, argv := range [][]string{{"iptables-save"}, {"ip6tables-save"}, {"nft", "list", "ruleset"}} {
		if _, err := exec.LookPath(argv[0]); err != nil {
			continue
		}
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			left = append(left, fmt.Sprintf("%s: %v", argv[0], err))
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, subnetPrefix) || mentionsAny(line, ids) {
				left = append(left, argv[0]+": "+strings.TrimSpace(line))
			}
		}
	}
	return left
}

// leftFiles walks the daemon's root and state for anything named after a
// pod or container: pod dirs, bundles, runc state, records, intents.
func (e *env) leftFiles(ids map[string]bool) []string {
	var left []string
	for _, top := range []string{e.root, e.state} {
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p == filepath.Join(e.root, "images") {
				return fs.SkipDir // content-addressed: digests, never pod IDs
			}
			if mentionsAny(d.Name(), ids) {
				left = append(left, p)
				if d.IsDir() {
					return fs.SkipDir
				}
			}
			return nil
		})
	}
	return left
}

func dirEntries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func mentionsAny(s string, ids map[string]bool) bool {
	for id := range ids {
		if strings.Contains(s, id) {
			return true
		}
	}
	return false
}
