// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"fmt"
	"strings"
)

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = map[string]bool{
	"kernel.sem":             true,
	"kernel.shmall":          true,
	"kernel.shmmax":          true,
	"kernel.shmmni":          true,
	"kernel.shm_rmid_forced": true,
	"kernel.msgmax":          true,
	"kernel.msgmnb":          true,
	"kernel.msgmni":          true,
}

// CheckSysctls refuses any sysctl that is not namespaced, or whose namespace
// the pod shares with the host: setting it would change the whole node.
func CheckSysctls(sysctls map[string]string, hostNetwork, hostIPC bool) error {
	for name := range sysctls {
		key := strings.ReplaceAll(name, "/", ".")
		switch {
		case ipcSysctls[key] || strings.HasPrefix(key, "fs.mqueue."):
			if hostIPC {
				return fmt.Errorf("sysctl %q belongs to the IPC namespace, which this pod shares with the host", name)
			}
		case strings.HasPrefix(key, "net."):
			if hostNetwork {
				return fmt.Errorf("sysctl %q belongs to the network namespace, which this pod shares with the host", name)
			}
		default:
			return fmt.Errorf("sysctl %q is not namespaced: setting it would change the whole node", name)
		}
	}
	return nil
}
