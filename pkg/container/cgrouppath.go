// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"path"
	"strings"
)

// cgroupDir turns an OCI cgroupsPath into the cgroup's path below a
// hierarchy's root. cgroupfs paths are used as they are; a systemd
// "slice:prefix:name" path is laid out as systemd (and runc) do:
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
	dir, err := expandSlice(slice)
	if err != nil {
		return "", err
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		unit = prefix + "-" + name + ".scope"
	}
	return path.Join(dir, unit), nil
}

// expandSlice gives a slice's path: each dash-separated prefix is a parent
// slice ("a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice; "-.slice" is /).
func expandSlice(slice string) (string, error) {
	base, ok := strings.CutSuffix(slice, ".slice")
	if !ok || strings.Contains(slice, "/") {
		return "", fmt.Errorf("systemd slice %q: not a slice name", slice)
	}
	if base == "-" {
		return "/", nil
	}
	if base == "" || strings.HasPrefix(base, "-") || strings.HasSuffix(base, "-") || strings.Contains(base, "--") {
		return "", fmt.Errorf("systemd slice %q: invalid name", slice)
	}
	dir, prefix := "/", ""
	for _, part := range strings.Split(base, "-") {
		prefix += part
		dir = path.Join(dir, prefix+".slice")
		prefix += "-"
	}
	return dir, nil
}
