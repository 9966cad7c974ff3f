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
	return oomScoreAdjFloor(string(status), string(own))
}

// oomScoreAdjFloor works OOMScoreAdjFloor out from the contents of
// /proc/self/status and /proc/self/oom_score_adj.
func oomScoreAdjFloor(status, own string) int {
	for _, line := range strings.Split(status, "\n") {
		hex, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err == nil && caps&(1<<capSysResource) != 0 {
			return -1000
		}
		break
	}
	n, err := strconv.Atoi(strings.TrimSpace(own))
	if err != nil {
		return -1000
	}
	return n
}
