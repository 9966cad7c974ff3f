// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"path/filepath"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs2"
)

// v1Controllers are the v1 hierarchies stats are read from. memory and
// cpuacct hold the figures the kubelet needs and must be there; the
// others are read where the node has them.
var v1Controllers = []string{"memory", "cpuacct", "cpu", "pids", "blkio"}

// hierarchy is where a node's cgroups are mounted: the unified root on a
// v2 host, else one mount point per v1 controller. It is found once; tests
// point it at a fixture tree.
type hierarchy struct {
	v2      bool
	unified string            // v2: the mount point
	mounts  map[string]string // v1: controller -> its hierarchy's mount point
	// swap: the memory controller accounts swap, so its swap limit
	// files are there (the library reads them as zeros otherwise).
	swap bool
}

// hostHierarchy finds the node's hierarchy with the library runc uses, so
// stats look where runc put the cgroup (on a hybrid host runc, and so
// podshim, uses the v1 controllers; the v2 side mount holds none).
func hostHierarchy(v2, swap bool) hierarchy {
	if v2 {
		return hierarchy{v2: true, unified: fs2.UnifiedMountpoint, swap: swap}
	}
	h := hierarchy{mounts: map[string]string{}, swap: swap}
	for _, c := range v1Controllers {
		// A controller the node does not mount is simply not read.
		if mnt, err := cgroups.FindCgroupMountpoint("", c); err == nil {
			h.mounts[c] = mnt
		}
	}
	return h
}

// v1Dirs gives the cgroup at rel in every mounted v1 controller.
func (h hierarchy) v1Dirs(rel string) (map[string]string, error) {
	dirs := map[string]string{}
	for c, mnt := range h.mounts {
		dirs[c] = filepath.Join(mnt, rel)
	}
	for _, need := range []string{"memory", "cpuacct"} {
		if dirs[need] == "" {
			return nil, fmt.Errorf("no cgroup v1 %s controller mounted", need)
		}
	}
	return dirs, nil
}
