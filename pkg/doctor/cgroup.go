// SPDX-License-Identifier: Apache-2.0

package doctor

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupMounts is what mountinfo says about cgroups: the v1 hierarchies'
// controllers by mount point, and the cgroup2 mount points, each once.
//
// A mount point can be listed more than once: mounts stacked on the same
// path, as in a container whose runtime mounts /sys/fs/cgroup over a tree
// that already holds the host's cgroup mounts (buildah run, a privileged
// pod binding the host's /sys/fs/cgroup). Only the top one is reachable
// by path, and it is the last listed, so for a v1 hierarchy the last entry
// wins and a cgroup2 mount point is kept once, where it first appears.
type cgroupMounts struct {
	v1 map[string][]string
	v2 []string
}

func readCgroupMounts(mountinfo io.Reader) cgroupMounts {
	m := cgroupMounts{v1: map[string][]string{}}
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		// id parent major:minor root mount-point options [optional...] - fstype source super-options
		before, after, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pre, post := strings.Fields(before), strings.Fields(after)
		if len(pre) < 5 || len(post) < 3 {
			continue
		}
		switch post[0] {
		case "cgroup":
			var ctrls []string
			for _, opt := range strings.Split(post[2], ",") {
				if isV1Controller(opt) {
					ctrls = append(ctrls, opt)
				}
			}
			m.v1[pre[4]] = ctrls
		case "cgroup2":
			if !slices.Contains(m.v2, pre[4]) {
				m.v2 = append(m.v2, pre[4])
			}
		}
	}
	return m
}

// isV1Controller leaves out the super options that are not controllers.
func isV1Controller(opt string) bool {
	switch {
	case opt == "rw", opt == "ro", strings.HasPrefix(opt, "name="), strings.Contains(opt, "="),
		opt == "noprefix", opt == "clone_children", opt == "xattr", opt == "cpuset_v2_mode":
		return false
	}
	return true
}

// Controllers runc needs for any pod, and the optional ones with what their
// absence turns off. Names are v1's; v2 calls blkio "io" and has no cpuacct,
// devices or freezer files (runc does those with eBPF and cgroup.freeze).
var (
	requiredV1 = []string{"cpu", "cpuacct", "memory", "pids", "devices", "freezer"}
	requiredV2 = []string{"cpu", "memory", "pids"}
	optional   = []struct{ v1, v2, turnsOff string }{
		{"cpuset", "cpuset", "cpuset pinning (CPU and memory-node sets in container resources)"},
		{"blkio", "io", "block I/O weights and limits"},
		{"hugetlb", "hugetlb", "hugepage limits: dropped from container resources"},
	}
)

func checkCgroups(driver string) []Result {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return []Result{{Check: "cgroups", Status: Unknown, Required: true, Detail: err.Error()}}
	}
	mounts := readCgroupMounts(f)
	f.Close()

	var st unix.Statfs_t
	unified := unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
	var out []Result
	if unified {
		out = append(out, Result{Check: "cgroup version", Status: OK, Required: true, Detail: "v2 (unified) at /sys/fs/cgroup"})
		out = append(out, checkControllers(v2Controllers("/sys/fs/cgroup"), requiredV2, false, "")...)
	} else {
		have := map[string]bool{}
		for _, ctrls := range mounts.v1 {
			for _, c := range ctrls {
				have[c] = true
			}
		}
		version := Result{Check: "cgroup version", Status: OK, Required: true, Detail: "v1"}
		if len(mounts.v1) == 0 {
			version.Status, version.Detail = Missing, "no cgroup v1 hierarchy and /sys/fs/cgroup is not cgroup2"
			version.TurnsOff = "every pod: runc needs cgroups"
			return append(out, version)
		}
		side := ""
		if len(mounts.v2) > 0 {
			var sideCtrls []string
			for _, p := range mounts.v2 {
				sideCtrls = append(sideCtrls, fmt.Sprintf("%s (%s)", p, strings.Join(keys(v2Controllers(p)), " ")))
			}
			side = strings.Join(sideCtrls, ", ")
			version.Detail = "v1, hybrid: cgroup2 also at " + side + "; runc uses the v1 hierarchies"
		}
		out = append(out, version)
		out = append(out, checkControllers(have, requiredV1, true, side)...)
	}
	out = append(out, checkSwapAccounting(unified), checkCgroupDriver(driver))
	return out
}

// checkControllers gives one line for the required set, one per optional.
func checkControllers(have map[string]bool, required []string, v1 bool, side string) []Result {
	req := Result{Check: "cgroup controllers", Required: true, Status: OK,
		Detail: "required: " + strings.Join(required, " ") + " all present", TurnsOff: "every pod"}
	var missing []string
	for _, c := range required {
		if !have[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		req.Status, req.Detail = Missing, "missing: "+strings.Join(missing, " ")
	}
	out := []Result{req}
	for _, o := range optional {
		name := o.v2
		if v1 {
			name = o.v1
		}
		r := Result{Check: "cgroup " + name, Status: OK, Detail: "controller present", TurnsOff: o.turnsOff}
		if !have[name] {
			r.Status = Missing
			r.Detail = "no " + name + " controller in the hierarchy runc uses"
			if v1 && enabledInKernel(name) {
				r.Detail = "the kernel has it (/proc/cgroups) but no v1 hierarchy mounts it"
				if strings.Contains(side, name) {
					r.Detail += "; it is in the side cgroup2 mount, which runc does not use on a v1 host"
				}
			}
		}
		out = append(out, r)
	}
	return out
}

func v2Controllers(mount string) map[string]bool {
	have := map[string]bool{}
	data, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
	if err != nil {
		return have
	}
	for _, c := range strings.Fields(string(data)) {
		have[c] = true
	}
	return have
}

// enabledInKernel reads /proc/cgroups: name hierarchy num_cgroups enabled.
func enabledInKernel(ctrl string) bool {
	data, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == ctrl && f[3] == "1" {
			return true
		}
	}
	return false
}

func checkSwapAccounting(unified bool) Result {
	r := Result{Check: "memory swap accounting", TurnsOff: "swap limits: containers' memory+swap limits are not set"}
	file := "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"
	if unified {
		file = "/sys/fs/cgroup/memory.swap.max"
		// The root has no memory.swap.max; any child cgroup with the
		// controller does, so look at this process's own cgroup.
		if data, err := os.ReadFile("/proc/self/cgroup"); err == nil {
			if _, p, ok := strings.Cut(strings.TrimSpace(string(data)), "::"); ok {
				file = filepath.Join("/sys/fs/cgroup", p, "memory.swap.max")
			}
		}
	}
	if _, err := os.Stat(file); err != nil {
		r.Status, r.Detail = Missing, "no "+file+" (swapaccount=1 on the kernel command line turns it on)"
		return r
	}
	r.Status, r.Detail = OK, file
	return r
}

func checkCgroupDriver(driver string) Result {
	r := Result{Check: "cgroup driver", Required: true, Detail: driver}
	switch driver {
	case "", "cgroupfs":
		r.Status, r.Detail = OK, "cgroupfs (podshim writes the cgroup tree itself)"
	case "systemd":
		// sd_booted(3): systemd is PID 1 exactly when this directory exists.
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			r.Status = Missing
			r.Detail = "cgroup_driver = systemd, but systemd is not running as PID 1 (no /run/systemd/system)"
			r.TurnsOff = "every pod: set cgroup_driver = \"cgroupfs\" (and the kubelet's cgroupDriver)"
		} else {
			r.Status, r.Detail = OK, "systemd (PID 1 is systemd)"
		}
	default:
		r.Status, r.Detail = Missing, "unknown driver "+driver
	}
	return r
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
