// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"encoding/json"
	"time"

	"github.com/podshim/podshim/pkg/monitor"
)

// StatusState is State for ContainerStatus, which the kubelet asks for
// every container of a pod at each of its syncs: a started container whose
// exit is neither reported nor recorded by its monitor is running, and is
// described from its record (pid, times) without a call to the monitor;
// any other asks State.
func (m *Manager) StatusState(ctx context.Context, r *Record) (monitor.State, error) {
	if r.StartError == "" && !r.ExitReported && r.StartedAt != 0 && r.Pid > 0 {
		if dir, err := m.sandboxes.MonitorDir(r.SandboxID); err == nil && !monitor.ExitRecorded(dir, r.ID) {
			return monitor.State{ID: r.ID, Pid: r.Pid, Status: monitor.StatusRunning,
				CreatedAt: time.Unix(0, r.CreatedAt), StartedAt: time.Unix(0, r.StartedAt)}, nil
		}
	}
	return m.State(ctx, r)
}

// ProcessUser is the user the container's process runs as, from its
// spec, decoded once per container (a spec is kilobytes of JSON; the user
// never changes after create). ok is false for a spec without a process.
func (m *Manager) ProcessUser(r *Record) (u ProcessUserIDs, ok bool) {
	if v, found := m.users.Load(r.ID); found {
		u = v.(ProcessUserIDs)
		return u, true
	}
	var spec struct {
		Process *struct {
			User struct {
				UID            uint32   `json:"uid"`
				GID            uint32   `json:"gid"`
				AdditionalGids []uint32 `json:"additionalGids"`
			} `json:"user"`
		} `json:"process"`
	}
	if json.Unmarshal(r.Spec, &spec) != nil || spec.Process == nil {
		return u, false
	}
	u = ProcessUserIDs{UID: spec.Process.User.UID, GID: spec.Process.User.GID, AdditionalGIDs: spec.Process.User.AdditionalGids}
	m.users.Store(r.ID, u)
	return u, true
}

// ProcessUserIDs are a process's uid, gid and supplementary groups.
type ProcessUserIDs struct {
	UID, GID       uint32
	AdditionalGIDs []uint32
}
