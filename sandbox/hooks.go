// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Hooks hear of each pod's lifecycle (NRI plugins, pkg/nri). They are
// called with the pod's lock held, so one pod's events reach them in
// order; none is called with a lock other pods need.
type Hooks interface {
	// BlockSync holds new plugins' synchronisation off until unblock.
	BlockSync() (unblock func())
	// RunPodSandbox is told of a pod whose pause and network are up,
	// before it is recorded; an error fails RunPodSandbox, undone.
	RunPodSandbox(ctx context.Context, r *Record) error
	// StopPodSandbox is told once, before the pause and network go.
	StopPodSandbox(ctx context.Context, r *Record)
	RemovePodSandbox(ctx context.Context, r *Record)
	// UpdatePodSandbox is told of new pod-level resources before they
	// are recorded; an error fails UpdatePodSandboxResources.
	UpdatePodSandbox(ctx context.Context, r *Record, overhead, resources *runtimeapi.LinuxContainerResources) error
	PostUpdatePodSandbox(ctx context.Context, r *Record)
}

// blockSync holds new plugins' synchronisation off while one pod's event
// reaches the plugins, so a plugin registering meanwhile either lists the
// pod as it is after or hears of it. Taken before the pod's lock; without
// hooks it does nothing.
func (m *Manager) blockSync() (unblock func()) {
	if m.hooks == nil {
		return func() {}
	}
	return m.hooks.BlockSync()
}

// SetHooks installs the lifecycle hooks; set them before the RPCs are
// served.
func (m *Manager) SetHooks(h Hooks) { m.hooks = h }
