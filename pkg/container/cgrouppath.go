// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"path"
	"strings"

	"github.com/opencontainers/cgroups/systemd"
)

// cgroupDir turns an OCI cgroupsPath into the cgroup's path below a
// hierarchy's root. cgroupfs paths are used as they are; a systemd
// "slice:prefix:name" path is laid out as runc's systemd manager lays it
// out (the same library expands the slice, so the two cannot disagree):
// "kubepods-burstable.slice:podshim:abc" is
// /kubepods.slice/kubepods-burstable.slice/podshim-abc.scope.
func cgroupDir(driver, cgroupsPath string) (string, error) {
	if driver != "systemd" {
		return cgroupsPath, nil
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("systemd cgroups path %q: want slice:prefix:name", cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	dir, err := systemd.ExpandSlice(slice)
	if err != nil {
		return "", fmt.Errorf("systemd cgroups path %q: %w", cgroupsPath, err)
	}
	// runc makes a scope unless the name is a slice itself; the library
	// keeps that rule unexported, so it is repeated here.
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		unit = prefix + "-" + name + ".scope"
	}
	return path.Join(dir, unit), nil
}
