// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/idmap"
)

// probeIDMappedLayers tries, once at start, the idmapped overlay a
// user-namespaced pod's containers stand on, in dir (podshim's root, where
// the image layers live). Without it such pods are refused, and Status
// says so.
func probeIDMappedLayers(dir string) bool {
	self, err := os.Executable()
	if err != nil {
		klog.InfoS("User-namespaced pods are off: cannot find podshim's binary to probe idmapped mounts", "err", err)
		return false
	}
	if err := idmap.ProbeOverlay(dir, []string{self, holdCommand}); err != nil {
		klog.InfoS("User-namespaced pods are off: this node cannot make idmapped overlays of image layers", "dir", dir, "err", err)
		return false
	}
	klog.V(1).InfoS("User-namespaced pods are on: idmapped overlays work", "dir", dir)
	return true
}
