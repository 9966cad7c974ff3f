// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/config"
)

// crunHybridWrapper is installed beside podshim by `make tools`
// (pkg/runc/crun-hybrid.sh).
const crunHybridWrapper = "crun-hybrid"

// builtinCrunBinary is the binary of the built-in crun handler: Debian's
// crun, or on a host crun refuses (see sideMountHasControllers) the
// wrapper beside podshim that hides the side mount from it. An operator
// who set a binary gets exactly that.
func builtinCrunBinary(configured string) string {
	if configured != config.CrunBinary || !sideMountHasControllers() {
		return configured
	}
	wrapper := besideMe(crunHybridWrapper)
	if _, err := os.Stat(wrapper); err != nil {
		klog.Warningf("runtime handler crun: crun refuses containers on this hybrid cgroup host (controllers on /sys/fs/cgroup/unified) and %s is missing (make tools installs it)", crunHybridWrapper)
		return configured
	}
	klog.InfoS("runtime handler crun: hybrid cgroup host with controllers on the v2 side mount, which crun refuses; running crun through its wrapper", "wrapper", wrapper)
	return wrapper
}

// sideMountHasControllers tells whether this is a hybrid cgroup host (v1
// controllers on a tmpfs at /sys/fs/cgroup, cgroup2 at
// /sys/fs/cgroup/unified) whose v2 side mount has controllers enabled:
// crun fails every container there ("cgroups in hybrid mode not
// supported").
func sideMountHasControllers() bool {
	var root, side unix.Statfs_t
	if unix.Statfs("/sys/fs/cgroup", &root) != nil || root.Type != unix.TMPFS_MAGIC {
		return false
	}
	if unix.Statfs("/sys/fs/cgroup/unified", &side) != nil || side.Type != unix.CGROUP2_SUPER_MAGIC {
		return false
	}
	data, err := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
	return err == nil && strings.TrimSpace(string(data)) != ""
}
