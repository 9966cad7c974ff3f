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
// keep names runc containers that are not pods but known containers.
func (m *Manager) Recover(ctx context.Context, keep map[string]bool) {
	known := map[string]*Record{}
	for _, r := range m.store.List() {
		known[r.ID] = r
	}
	intents, err := m.net.Intents()
	if err != nil {
		klog.Errorf("sandbox recovery: list network intents: %v", err)
	}
	for _, in := range intents {
		if r, ok := known[in.Pod.ID]; ok && !r.NetworkDown {
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
			if r, ok := known[filepath.Base(p)]; ok && !r.NetworkDown {
				continue
			}
			logTeardown(filepath.Base(p), "remove netns", m.net.RemoveNetNS(p))
		}
	}
	if ids, err := m.runc.List(ctx); err != nil {
		klog.Errorf("sandbox recovery: %v", err)
	} else {
		for _, id := range ids {
			if _, ok := known[id]; !ok && !keep[id] && len(id) == 64 {
				klog.Infof("sandbox recovery: deleting unrecorded pause container %s", id)
				logTeardown(id, "delete pause", m.runc.Delete(ctx, id))
			}
		}
	}
	dirs, _ := os.ReadDir(filepath.Join(m.opts.StateDir, "sandboxes"))
	for _, d := range dirs {
		if _, ok := known[d.Name()]; ok {
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
