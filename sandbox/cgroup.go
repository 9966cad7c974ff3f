// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"
	"path"
	"strings"
)

// cgroupsPath places a pod's pause process below the cgroup parent the
// kubelet chose, in the form runc expects for each driver.
func cgroupsPath(driver, parent, id string) (string, error) {
	switch driver {
	case "systemd":
		if parent == "" {
			parent = "system.slice"
		}
		if !strings.HasSuffix(parent, ".slice") || strings.Contains(parent, "/") {
			return "", fmt.Errorf("cgroup parent %q: the systemd driver needs a slice name such as kubepods-pod1.slice", parent)
		}
		return parent + ":podshim:" + id, nil
	default:
		if parent == "" {
			parent = "/podshim"
		}
		if !strings.HasPrefix(parent, "/") {
			parent = "/" + parent
		}
		return path.Join(parent, "podshim-"+id), nil
	}
}
