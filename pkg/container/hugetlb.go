// SPDX-License-Identifier: Apache-2.0

package container

import (
	"bufio"
	"io"
	"os"
	"strings"
)

// hugetlbControllerAvailable reports whether runc can apply hugepage limits:
// the hugetlb controller must be in the hierarchy runc manages. On a unified
// (v2-only) host that is /sys/fs/cgroup; on a v1 or hybrid host runc uses the
// v1 controllers, so hugetlb in a side v2 mount (as on this kind of VM) does
// not count. The kubelet sends hugepage limits for every page size the node
// has, so without the controller they must be dropped, not passed to runc.
func hugetlbControllerAvailable() bool {
	if data, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return hasWord(string(data), "hugetlb")
	}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	return v1HugetlbMounted(f)
}

// v1HugetlbMounted reports whether mountinfo lists a cgroup v1 mount whose
// super options name the hugetlb controller.
func v1HugetlbMounted(mountinfo io.Reader) bool {
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		// ... mount-point options optional-fields - fstype source super-options
		_, after, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields := strings.Fields(after)
		if len(fields) < 3 || fields[0] != "cgroup" {
			continue
		}
		for _, opt := range strings.Split(fields[2], ",") {
			if opt == "hugetlb" {
				return true
			}
		}
	}
	return false
}

func hasWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if w == word {
			return true
		}
	}
	return false
}
