// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdateResources records the pod-level resources and overhead that the
// kubelet has just applied to the pod's cgroup (UpdatePodSandboxResources
// comes after the kubelet resized that cgroup itself): the pod's stored
// config then says what the pod now has, for status and for anything that
// reads the config later. A field left nil keeps what the pod had.
//
// Nothing is applied to a cgroup here: the pod-level cgroup is the
// kubelet's (the cgroup parent it gives), and podshim has no pod-level
// cgroup of its own to resize. NRI plugins hear of it before it is
// recorded, and may refuse it.
func (m *Manager) UpdateResources(ctx context.Context, id string, overhead, resources *runtimeapi.LinuxContainerResources) (*Record, error) {
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("pod sandbox %s: %w", id, ErrNotFound)
	}
	defer unlock()
	if m.hooks != nil {
		if err := m.hooks.UpdatePodSandbox(ctx, r, overhead, resources); err != nil {
			return nil, fmt.Errorf("%w: NRI: %v", ErrRefused, err)
		}
	}
	updated := *r
	cfg := proto.Clone(r.Config).(*runtimeapi.PodSandboxConfig)
	if cfg.Linux == nil {
		cfg.Linux = &runtimeapi.LinuxPodSandboxConfig{}
	}
	if overhead != nil {
		cfg.Linux.Overhead = overhead
	}
	if resources != nil {
		cfg.Linux.Resources = resources
	}
	updated.Config = cfg
	if err := m.store.Put(&updated); err != nil {
		return nil, fmt.Errorf("pod sandbox %s: record resources: %w", r.ID, err)
	}
	if m.hooks != nil {
		m.hooks.PostUpdatePodSandbox(ctx, &updated)
	}
	return &updated, nil
}
