// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
)

// keptOrphans returns the IDs that start-up recovery must leave alone
// although no record names them, and reports each one:
//
//   - a pod whose pause runs and whose directory has no creating marker:
//     its record went missing after RunPodSandbox had finished (a power
//     loss before the record reached the disk, a hand-edited root). Its
//     directory, netns, network, monitor and runc container are kept;
//   - a runc container that runs but is neither a pod nor a recorded
//     container: a container whose record went missing. Deleting it would
//     kill a workload.
//
// When runc cannot be asked, nothing unrecorded is known to be dead, so
// every unrecorded pod without a creating marker is kept as well.
func (m *Manager) keptOrphans(ctx context.Context, known map[string]*Record, containers map[string]bool) map[string]bool {
	kept := map[string]bool{}
	podsDir := filepath.Join(m.opts.StateDir, "sandboxes")
	live, err := m.handlers.Live(ctx)
	if err != nil {
		klog.Errorf("sandbox recovery: cannot tell which unrecorded pods still run, so none is torn down: %v", err)
		dirs, _ := os.ReadDir(podsDir)
		for _, d := range dirs {
			if _, ok := known[d.Name()]; !ok && !isCreating(filepath.Join(podsDir, d.Name())) {
				kept[d.Name()] = true
			}
		}
		return kept
	}
	for id, pid := range live {
		if _, ok := known[id]; ok || containers[id] {
			continue
		}
		dir := filepath.Join(m.opts.StateDir, "sandboxes", id)
		_, statErr := os.Stat(dir)
		switch {
		case statErr != nil:
			klog.Errorf("sandbox recovery: runc container %s runs (pid %d) but no pod or container record names it: "+
				"kept; put its record back and restart podshim, or stop it by hand", id, pid)
		case isCreating(dir):
			continue // an interrupted RunPodSandbox: undone
		default:
			klog.Errorf("sandbox recovery: pod %s has no record but its pause (pid %d) runs: kept with its directory, "+
				"network and monitor; put its record back as %s and restart podshim, or stop it by hand",
				id, pid, filepath.Join(m.opts.RecordDir, id+".json"))
		}
		kept[id] = true
	}
	return kept
}
