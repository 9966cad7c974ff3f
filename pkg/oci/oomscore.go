// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"os"
	"strconv"
	"strings"
)

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/<pid>/status.
const capSysResource = 24

// OOMScoreAdjFloor is the lowest oom_score_adj this process can give the
// processes it starts: any, with CAP_SYS_RESOURCE (a root daemon, as the
// kubelet's -997 for Guaranteed pods expects); without it, none below its
// own, as the kernel refuses to lower a score past the one inherited and
// runc would fail the container rather than start it with a higher one.
// When /proc cannot tell, nothing is raised.
func OOMScoreAdjFloor() int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1000
	}
	own, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return -1000
	}
	uidMap, _ := os.ReadFile("/proc/self/uid_map")
	return oomScoreAdjFloor(string(status), string(own), string(uidMap))
}

// oomScoreAdjFloor works OOMScoreAdjFloor out from the contents of
// /proc/self/status, /proc/self/oom_score_adj and /proc/self/uid_map.
// Capabilities held in a user namespace of its own (rootless, or a
// daemon in a user-namespaced container) do not count: the kernel asks
// for CAP_SYS_RESOURCE in the initial one.
func oomScoreAdjFloor(status, own, uidMap string) int {
	if initialUserNS(uidMap) && hasCap(status, capSysResource) {
		return -1000
	}
	n, err := strconv.Atoi(strings.TrimSpace(own))
	if err != nil {
		return -1000
	}
	return n
}

// initialUserNS reports whether a uid_map is the initial user namespace's,
// the whole range mapped onto itself; an unreadable one counts as such.
func initialUserNS(uidMap string) bool {
	f := strings.Fields(uidMap)
	return len(f) == 0 || len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

// hasCap reports whether the CapEff line of a /proc/<pid>/status holds
// the capability.
func hasCap(status string, bit uint) bool {
	for _, line := range strings.Split(status, "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<bit) != 0
		}
	}
	return false
}
