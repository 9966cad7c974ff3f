// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
)

// Recover runs once at daemon start, before any RPC is served. It finishes
// or undoes whatever a crash interrupted: a network set up for a sandbox
// that was never recorded is torn down (its IP freed, its netns removed), a
// pause process without a record is deleted, and per-pod directories
// without a record are unmounted and removed. Records themselves are kept:
// a pod whose pause died while podshim was down is simply reported
// NOTREADY, and the kubelet decides.
//
// What runs without a record is never destroyed unless it is provably an
// interrupted RunPodSandbox (its directory still holds the creating
// marker): a pod whose record went missing while its pause runs, or a
// container that runs without a record, is kept whole and reported, so an
// operator can put the record back (see orphans.go).
//
// keep names runc containers that are not pods but known containers.
func (m *Manager) Recover(ctx context.Context, keep map[string]bool) {
	known := map[string]*Record{}
	for _, r := range m.store.List() {
		known[r.ID] = r
	}
	kept := m.keptOrphans(ctx, known, keep)
	owned := func(id string) bool {
		if kept[id] {
			return true
		}
		r, ok := known[id]
		return ok && !r.NetworkDown
	}
	intents, err := m.net.Intents()
	if err != nil {
		klog.Errorf("sandbox recovery: list network intents: %v", err)
	}
	for _, in := range intents {
		if owned(in.Pod.ID) {
			continue // a live pod's network
		}
		klog.Infof("sandbox recovery: tearing down the network of unrecorded pod %s", in.Pod.ID)
		logTeardown(in.Pod.ID, "CNI teardown", m.net.Teardown(ctx, in.Pod, in.NetNS))
		logTeardown(in.Pod.ID, "remove netns", m.net.RemoveNetNS(in.NetNS))
	}
	// A crash between pinning a netns and recording the pod leaves a pin
	// that nothing else refers to.
	if pins, err := m.net.ListNetNS(); err != nil {
		klog.Errorf("sandbox recovery: list netns pins: %v", err)
	} else {
		for _, p := range pins {
			if owned(filepath.Base(p)) {
				continue
			}
			logTeardown(filepath.Base(p), "remove netns", m.net.RemoveNetNS(p))
		}
	}
	// Each handler has its own root: a pause a crash left unrecorded is
	// in the root of the handler its pod asked for.
	for _, rt := range m.handlers.All() {
		ids, err := rt.List(ctx)
		if err != nil {
			klog.Errorf("sandbox recovery: handler %s: %v", rt.Name(), err)
			continue
		}
		for _, id := range ids {
			if _, ok := known[id]; !ok && !keep[id] && !kept[id] && len(id) == 64 {
				klog.Infof("sandbox recovery: deleting unrecorded pause or container %s (handler %s)", id, rt.Name())
				logTeardown(id, "delete pause or container", rt.Delete(ctx, id))
			}
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(m.opts.StateDir, "sandboxes"))
	for _, d := range dirs {
		if _, ok := known[d.Name()]; ok || kept[d.Name()] {
			continue
		}
		dir := filepath.Join(m.opts.StateDir, "sandboxes", d.Name())
		if pids := killMonitorsIn(filepath.Join(dir, "monitor")); len(pids) > 0 {
			klog.Infof("sandbox recovery: killed the monitor (pid %v) of unrecorded pod %s", pids, d.Name())
		}
		logTeardown(d.Name(), "unmount shm", unmountShm(filepath.Join(dir, "shm")))
		logTeardown(d.Name(), "remove dir", os.RemoveAll(dir))
	}
}
