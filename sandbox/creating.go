// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
)

// creatingMarker names a file in a pod's directory that exists from the
// directory's creation until the pod's record is written. Start-up recovery
// reads it to tell a RunPodSandbox a crash interrupted (marker present: undo
// everything, even a pause that already runs) from a pod whose record went
// missing later (no marker, pause alive: keep it and report it).
//
// The marker is not fsynced: it only matters after a daemon crash on a host
// that stayed up, where the page cache keeps it; after a power loss no pause
// survives, and an unrecorded pod without a live pause is undone either way.
const creatingMarker = "creating"

func markCreating(dir string) error {
	return os.WriteFile(filepath.Join(dir, creatingMarker), nil, 0o600)
}

// clearCreating removes the marker once the record is on disk. A marker left
// behind by a failed remove is harmless while the record exists.
func clearCreating(id, dir string) {
	if err := os.Remove(filepath.Join(dir, creatingMarker)); err != nil && !os.IsNotExist(err) {
		klog.Warningf("sandbox %s: remove the creating marker: %v", id, err)
	}
}

func isCreating(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, creatingMarker))
	return err == nil
}
