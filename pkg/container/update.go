// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"encoding/json"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/oci"
)

// UpdateResources applies new cgroup limits to a created or running
// container and records them, so its status and a later restart of the
// daemon agree with the kernel.
func (m *Manager) UpdateResources(ctx context.Context, id string, res *runtimeapi.LinuxContainerResources) error {
	r, unlock, err := m.getLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := m.State(ctx, r)
	if err != nil {
		return err
	}
	if st.Status != monitor.StatusRunning && st.Status != monitor.StatusCreated {
		return fmt.Errorf("%w: %s is %s", ErrNotRunning, r.ID, st.Status)
	}
	resources, err := oci.LinuxResources(res, m.features)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	rt, err := m.sandboxes.Runtime(r.SandboxID)
	if err != nil {
		return fmt.Errorf("update %s: %w", r.ID, err)
	}
	if err := rt.Update(ctx, r.ID, resources); err != nil {
		return fmt.Errorf("update %s: %w", r.ID, err)
	}
	next := *r
	next.Config = proto.Clone(r.Config).(*runtimeapi.ContainerConfig)
	if next.Config.Linux == nil {
		next.Config.Linux = &runtimeapi.LinuxContainerConfig{}
	}
	next.Config.Linux.Resources = res
	var spec specs.Spec
	if err := json.Unmarshal(r.Spec, &spec); err == nil && spec.Linux != nil {
		// Keep the stored spec's device rules: runc update only changes limits.
		if spec.Linux.Resources != nil {
			resources.Devices = spec.Linux.Resources.Devices
		}
		spec.Linux.Resources = resources
		if data, err := json.Marshal(&spec); err == nil {
			next.Spec = data
		}
	}
	return m.store.Put(&next)
}
