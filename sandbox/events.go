// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"k8s.io/klog/v2"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// SetNotifier installs the lifecycle hook (the CRI's event stream): it
// hears of a sandbox's change once it is on disk, with the sandbox's ID as
// both IDs, as containerd sends them. It is called with the sandbox's lock
// held, so it must only queue the event. Set it before the RPCs are served.
func (m *Manager) SetNotifier(n func(containerID, sandboxID string, t runtimeapi.ContainerEventType)) {
	m.notify = n
}

func (m *Manager) emit(r *Record, t runtimeapi.ContainerEventType) {
	if m.notify != nil {
		m.notify(r.ID, r.ID, t)
	}
}

// ReportStopped runs once at daemon start, after recovery and
// SetNotifier: a pod whose pause process died while the daemon was down
// is reported STOPPED now, once.
func (m *Manager) ReportStopped() {
	for _, r := range m.store.List() {
		if r.StopReported || r.State != StateReady || alive(r.Pid, r.PidStart) {
			continue
		}
		func() {
			r, unlock, found, err := m.store.GetLocked(&m.locks, r.ID)
			if !found {
				return
			}
			defer unlock()
			if err != nil || r.StopReported || m.Ready(r) {
				return
			}
			klog.V(1).Infof("sandbox %s: its pause process died while podshim was down: reporting it", r.ID)
			next := *r
			next.StopReported = true
			if err := m.store.Put(&next); err != nil {
				klog.Errorf("sandbox %s: record its reported stop: %v", r.ID, err)
			}
			m.emit(&next, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
		}()
	}
}
