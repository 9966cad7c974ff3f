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
// daemon agree with the kernel. NRI plugins may change them first.
func (m *Manager) UpdateResources(ctx context.Context, id string, res *runtimeapi.LinuxContainerResources) error {
	r, unlock, err := m.getLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.checkUpdatable(ctx, r); err != nil {
		return err
	}
	resources, err := oci.LinuxResources(res, m.features)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if m.hooks != nil {
		if resources, err = m.hooks.UpdateContainer(ctx, r, resources); err != nil {
			return fmt.Errorf("%w: NRI: %v", ErrRefused, err)
		}
	}
	next := *r
	next.Config = proto.Clone(r.Config).(*runtimeapi.ContainerConfig)
	if next.Config.Linux == nil {
		next.Config.Linux = &runtimeapi.LinuxContainerConfig{}
	}
	next.Config.Linux.Resources = res
	if err := m.applyResources(ctx, &next, resources); err != nil {
		return err
	}
	if m.hooks != nil {
		m.hooks.PostUpdateContainer(ctx, &next)
	}
	return nil
}

// UpdateOCIResources applies limits an NRI plugin asked for on its own:
// the fields it sets replace the container's, the others stay.
func (m *Manager) UpdateOCIResources(ctx context.Context, id string, res *specs.LinuxResources) error {
	r, unlock, err := m.getLocked(id)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.checkUpdatable(ctx, r); err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(r.Spec, &spec); err != nil {
		return fmt.Errorf("update %s: stored spec: %w", r.ID, err)
	}
	merged := mergeResources(spec.Linux, res)
	merged.Devices = nil // as from the kubelet: limits only, the rules stay
	m.DropUnsupported(merged)
	next := *r
	return m.applyResources(ctx, &next, merged)
}

// mergeResources lays the set fields of res over the spec's limits.
func mergeResources(l *specs.Linux, res *specs.LinuxResources) *specs.LinuxResources {
	out := specs.LinuxResources{}
	if l != nil && l.Resources != nil {
		out = *l.Resources
	}
	if res == nil {
		return &out
	}
	if res.CPU != nil {
		cpu := specs.LinuxCPU{}
		if out.CPU != nil {
			cpu = *out.CPU
		}
		c := res.CPU
		if c.Shares != nil {
			cpu.Shares = c.Shares
		}
		if c.Quota != nil {
			cpu.Quota = c.Quota
		}
		if c.Period != nil {
			cpu.Period = c.Period
		}
		if c.Cpus != "" {
			cpu.Cpus = c.Cpus
		}
		if c.Mems != "" {
			cpu.Mems = c.Mems
		}
		if c.RealtimePeriod != nil {
			cpu.RealtimePeriod = c.RealtimePeriod
		}
		if c.RealtimeRuntime != nil {
			cpu.RealtimeRuntime = c.RealtimeRuntime
		}
		out.CPU = &cpu
	}
	if res.Memory != nil {
		mem := specs.LinuxMemory{}
		if out.Memory != nil {
			mem = *out.Memory
		}
		if res.Memory.Limit != nil {
			mem.Limit = res.Memory.Limit
			// podshim sets swap to the limit (no swap beyond it, as the
			// kubelet asks): a new limit moves it along, unless given.
			if mem.Swap != nil && res.Memory.Swap == nil {
				mem.Swap = res.Memory.Limit
			}
		}
		if res.Memory.Swap != nil {
			mem.Swap = res.Memory.Swap
		}
		if res.Memory.Reservation != nil {
			mem.Reservation = res.Memory.Reservation
		}
		out.Memory = &mem
	}
	if res.Pids != nil {
		out.Pids = res.Pids
	}
	if len(res.HugepageLimits) > 0 {
		out.HugepageLimits = res.HugepageLimits
	}
	if len(res.Unified) > 0 {
		out.Unified = res.Unified
	}
	if res.BlockIO != nil {
		out.BlockIO = res.BlockIO
	}
	return &out
}

// checkUpdatable refuses a container whose cgroup is gone or not made.
func (m *Manager) checkUpdatable(ctx context.Context, r *Record) error {
	st, err := m.State(ctx, r)
	if err != nil {
		return err
	}
	if st.Status != monitor.StatusRunning && st.Status != monitor.StatusCreated {
		return fmt.Errorf("%w: %s is %s", ErrNotRunning, r.ID, st.Status)
	}
	return nil
}

// applyResources has runc set the limits, then records them in next (the
// caller's copy of the container's record) and stores it.
func (m *Manager) applyResources(ctx context.Context, next *Record, resources *specs.LinuxResources) error {
	rt, err := m.sandboxes.Runtime(next.SandboxID)
	if err != nil {
		return fmt.Errorf("update %s: %w", next.ID, err)
	}
	if err := rt.Update(ctx, next.ID, resources); err != nil {
		return fmt.Errorf("update %s: %w", next.ID, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(next.Spec, &spec); err == nil && spec.Linux != nil {
		// Keep the stored spec's device rules: runc update only changes limits.
		if spec.Linux.Resources != nil {
			resources.Devices = spec.Linux.Resources.Devices
		}
		spec.Linux.Resources = resources
		if data, err := json.Marshal(&spec); err == nil {
			next.Spec = data
		}
	}
	return m.store.Put(next)
}
