// SPDX-License-Identifier: Apache-2.0

package doctor

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// minKernel is the oldest kernel podshim accepts: the oldest long-term
// release still maintained when runc 1.2 came out; nothing older is tested.
var minKernel = [2]int{4, 14}

func checkKernel() Result {
	r := Result{Check: "kernel", Required: true,
		TurnsOff: fmt.Sprintf("everything: podshim needs Linux %d.%d or newer", minKernel[0], minKernel[1])}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		r.Status, r.Detail = Unknown, err.Error()
		return r
	}
	release := unix.ByteSliceToString(u.Release[:])
	major, minor, ok := parseRelease(release)
	r.Detail = "Linux " + release
	switch {
	case !ok:
		r.Status = Unknown
		r.Detail += " (version not understood)"
	case major > minKernel[0] || major == minKernel[0] && minor >= minKernel[1]:
		r.Status = OK
	default:
		r.Status = Missing
	}
	return r
}

// parseRelease reads "6.1.0-18-amd64" as 6, 1.
func parseRelease(s string) (major, minor int, ok bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	return major, minor, err1 == nil && err2 == nil
}

// checkSeccomp looks for seccomp filters in the kernel; whether runc was
// built with libseccomp is checkRunc's business.
func checkSeccomp() Result {
	r := Result{Check: "seccomp (kernel)",
		TurnsOff: "seccomp profiles: containers given RuntimeDefault or Localhost profiles fail to start"}
	data, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		r.Status, r.Detail = Missing, "no seccomp filter support (/proc/sys/kernel/seccomp/actions_avail: "+err.Error()+")"
		return r
	}
	r.Status, r.Detail = OK, "filter actions: "+strings.TrimSpace(string(data))
	return r
}

func checkUserNamespaces() Result {
	r := Result{Check: "user namespaces", TurnsOff: "pods with hostUsers: false"}
	data, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil {
		r.Status, r.Detail = Missing, err.Error()
		return r
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || n == 0 {
		r.Status, r.Detail = Missing, "user.max_user_namespaces = "+strings.TrimSpace(string(data))
		return r
	}
	r.Status, r.Detail = OK, "user.max_user_namespaces = "+strconv.Itoa(n)
	return r
}

// checkLSMs reports AppArmor and SELinux exactly as the daemon detects them
// (pkg/container), since that decides what it refuses.
func checkLSMs() []Result {
	aa := Result{Check: "AppArmor", Status: Missing,
		TurnsOff: "AppArmor profiles: containers asking for RuntimeDefault or Localhost AppArmor profiles are refused"}
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(data)) == "Y" {
		aa.Status, aa.Detail = OK, "enabled"
	} else {
		aa.Detail = "not enabled in this kernel (/sys/module/apparmor/parameters/enabled)"
	}
	se := Result{Check: "SELinux", Status: Missing,
		TurnsOff: "SELinux labels: pods' SELinux options are ignored (as containerd and CRI-O do)"}
	if data, err := os.ReadFile("/sys/fs/selinux/enforce"); err == nil {
		mode := "permissive"
		if strings.TrimSpace(string(data)) == "1" {
			mode = "enforcing"
		}
		se.Status, se.Detail = OK, mode
	} else {
		se.Detail = "not enabled (no /sys/fs/selinux)"
	}
	return []Result{aa, se}
}
