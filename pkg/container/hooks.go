// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hooks hear of each container's lifecycle (NRI plugins, pkg/nri). They
// are called with the container's lock held, so one container's events
// reach them in order; none is called with a lock other containers need.
type Hooks interface {
	// BlockSync holds new plugins' synchronisation off while a container
	// is created, until unblock.
	BlockSync() (unblock func())
	// CreateContainer may adjust the spec; an error fails the create.
	CreateContainer(ctx context.Context, r *Record, spec *specs.Spec) error
	UndoCreateContainer(ctx context.Context, r *Record)
	PostCreateContainer(ctx context.Context, r *Record)
	StartContainer(ctx context.Context, r *Record)
	PostStartContainer(ctx context.Context, r *Record)
	// UpdateContainer may change the resources; an error fails the update.
	UpdateContainer(ctx context.Context, r *Record, res *specs.LinuxResources) (*specs.LinuxResources, error)
	PostUpdateContainer(ctx context.Context, r *Record)
	// StopContainer may be called more than once for one stop.
	StopContainer(ctx context.Context, r *Record)
	RemoveContainer(ctx context.Context, r *Record)
}

// blockSync holds new plugins' synchronisation off (see Hooks.BlockSync)
// while one container's stop or removal reaches the plugins, so a plugin
// registering meanwhile either lists it as it is after or hears of it.
// It is taken before the container's lock. Without hooks it does nothing.
func (m *Manager) blockSync() (unblock func()) {
	if m.hooks == nil {
		return func() {}
	}
	return m.hooks.BlockSync()
}

// SetHooks installs the lifecycle hooks; set them before the RPCs are
// served and before WatchExits.
func (m *Manager) SetHooks(h Hooks) { m.hooks = h }
