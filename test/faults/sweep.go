// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// fenceRule drops whatever the pod bridge would forward to any other
// interface: pods reach each other and the host, never the outside.
var fenceRule = []string{"FORWARD", "-i", bridgeName, "!", "-o", bridgeName, "-j", "DROP"}

func removeFence() {
	for i := 0; i < 10 && exec.Command("iptables", append([]string{"-w", "-D"}, fenceRule...)...).Run() == nil; i++ {
	}
}

// sweep looks for anything a pod of this run left on the host once every
// pod is removed. Each check may take a few seconds to come clean (a
// monitor still exiting).
func (r *run) sweep() []string {
	checks := []struct {
		name string
		find func() []string
	}{
		{"mount", r.leftMounts},
		{"netns", func() []string { return entries(filepath.Join(r.state, "network", "netns")) }},
		{"veth", leftVeths},
		{"IP lease", r.leftLeases},
		{"cgroup", func() []string { return leftCgroups(r.ids) }},
		{"process", r.leftProcesses},
		{"iptables rule", r.leftRules},
		{"record or file", r.leftFiles},
	}
	var out []string
	for _, c := range checks {
		left := c.find()
		for deadline := time.Now().Add(5 * time.Second); len(left) > 0 && time.Now().Before(deadline); left = c.find() {
			time.Sleep(200 * time.Millisecond)
		}
		for _, l := range left {
			out = append(out, c.name+": "+l)
		}
	}
	return out
}

type mount struct{ point, fstype string }

func readMounts() []mount {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		f1, f2 := strings.Fields(pre), strings.Fields(post)
		if ok && len(f1) >= 5 && len(f2) >= 1 {
			out = append(out, mount{f1[4], f2[0]})
		}
	}
	return out
}

func mountsBelow(dir string) []string {
	var out []string
	for _, m := range readMounts() {
		if m.point == dir || strings.HasPrefix(m.point, dir+"/") {
			out = append(out, m.point)
		}
	}
	return out
}

func (r *run) leftMounts() []string {
	var left []string
	for _, m := range readMounts() {
		if (strings.HasPrefix(m.point, r.work+"/") && !r.mountBase[m.point]) || mentions(m.point, r.ids) {
			left = append(left, m.fstype+" on "+m.point)
		}
	}
	return left
}

// leftVeths lists the interfaces still enslaved to this run's bridge.
func leftVeths() []string {
	out, _ := exec.Command("ip", "-o", "link", "show", "master", bridgeName).Output()
	var left []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) > 1 {
			left = append(left, strings.TrimSuffix(f[1], ":"))
		}
	}
	return left
}

// leftLeases lists host-local's lease files (named by the IP they hold).
func (r *run) leftLeases() []string {
	var left []string
	filepath.WalkDir(filepath.Join(r.state, "network", "host-local"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && net.ParseIP(d.Name()) != nil {
			left = append(left, p)
		}
		return nil
	})
	return left
}

// leftCgroups finds podshim-<id> cgroups of this run's pods and
// containers (cgroupfs driver), a few levels deep in every hierarchy.
func leftCgroups(ids map[string]bool) []string {
	var left []string
	for _, m := range readMounts() {
		if m.fstype != "cgroup" && m.fstype != "cgroup2" {
			continue
		}
		mnt := m.point
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

// leftProcesses: this run's monitors, and any process (a pause, a
// container's) in a cgroup of one of this run's pods or containers.
func (r *run) leftProcesses() []string {
	var left []string
	for pid, pod := range monitors(r.state) {
		left = append(left, fmt.Sprintf("monitor pid %d of pod %s", pid, pod))
	}
	for _, pid := range pids() {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
		if err == nil && mentions(string(data), r.ids) {
			left = append(left, fmt.Sprintf("pid %d %q in a pod's cgroup", pid, strings.Join(cmdline(pid), " ")))
		}
	}
	if out, err := exec.Command(filepath.Join(r.bin, "runc"), "--root", filepath.Join(r.state, "runc"), "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(out)) {
			left = append(left, "runc container "+id)
		}
	}
	return left
}

// leftRules: any rule naming this run's subnet or one of its IDs (the
// CNI plugins' comments carry the pod ID).
func (r *run) leftRules() []string {
	var left []string
	for _, argv := range [][]string{{"iptables-save"}, {"ip6tables-save"}} {
		out, err := exec.Command(argv[0]).Output()
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, subnetPrefix) || mentions(l, r.ids) {
				left = append(left, argv[0]+": "+strings.TrimSpace(l))
			}
		}
	}
	return left
}

// leftFiles: records, pod dirs, bundles, intents: anything below the
// root or state named after a pod or container of this run.
func (r *run) leftFiles() []string {
	var left []string
	for _, top := range []string{r.root, r.state} {
		filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && p == filepath.Join(r.root, "images") {
				return fs.SkipDir
			}
			if mentions(d.Name(), r.ids) {
				left = append(left, p)
				if d.IsDir() {
					return fs.SkipDir
				}
			}
			return nil
		})
	}
	for _, d := range []string{"sandboxes", "containers"} {
		left = append(left, entries(filepath.Join(r.state, d))...)
	}
	return left
}

func entries(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func mentions(s string, ids map[string]bool) bool {
	for id := range ids {
		if strings.Contains(s, id) {
			return true
		}
	}
	return false
}

func pids() []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

func cmdline(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// monitors maps the pid of each monitor of this run's daemon (by its
// --dir below <state>/sandboxes/) to its pod ID.
func monitors(state string) map[int]string {
	prefix := filepath.Join(state, "sandboxes") + "/"
	out := map[int]string{}
	for _, pid := range pids() {
		args := cmdline(pid)
		if len(args) < 2 || !(filepath.Base(args[0]) == "podshim-monitor" || (filepath.Base(args[0]) == "podshim" && args[1] == "monitor")) {
			continue
		}
		for i, a := range args {
			if a == "--dir" && i+1 < len(args) {
				if rest, ok := strings.CutPrefix(args[i+1], prefix); ok {
					out[pid] = strings.SplitN(rest, "/", 2)[0]
				}
			}
		}
	}
	return out
}

// killMonitor kills -9 the monitor of pod and returns how many it killed.
func killMonitor(state, pod string) int {
	n := 0
	for pid, p := range monitors(state) {
		if p == pod && syscall.Kill(pid, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}
