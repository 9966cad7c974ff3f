// SPDX-License-Identifier: Apache-2.0

package nri

import (
	"encoding/json"

	api "github.com/containerd/nri/pkg/api"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/sandbox"
)

// podOf is what plugins are told about a pod: its identity, labels and
// annotations, cgroups and namespaces, resources, pause pid and IPs.
func podOf(r *sandbox.Record) *api.PodSandbox {
	cfg := r.Config
	md := cfg.GetMetadata()
	pod := &api.PodSandbox{
		Id:             r.ID,
		Name:           md.GetName(),
		Uid:            md.GetUid(),
		Namespace:      md.GetNamespace(),
		Labels:         cfg.GetLabels(),
		Annotations:    cfg.GetAnnotations(),
		RuntimeHandler: r.RuntimeHandler,
		Pid:            uint32(max(r.Pid, 0)),
		Ips:            r.IPs,
		Linux: &api.LinuxPodSandbox{
			CgroupParent: cfg.GetLinux().GetCgroupParent(),
			CgroupsPath:  r.CgroupsPath,
			PodResources: criResources(cfg.GetLinux().GetResources()),
			PodOverhead:  criResources(cfg.GetLinux().GetOverhead()),
			Namespaces:   nil,
			Resources:    nil,
		},
	}
	var spec specs.Spec
	if len(r.Spec) > 0 && json.Unmarshal(r.Spec, &spec) == nil && spec.Linux != nil {
		pod.Linux.Namespaces = api.FromOCILinuxNamespaces(spec.Linux.Namespaces)
		pod.Linux.Resources = api.FromOCILinuxResources(spec.Linux.Resources, nil)
	}
	return pod
}

// criResources turns the kubelet's view of a pod's resources into NRI's.
func criResources(r *runtimeapi.LinuxContainerResources) *api.LinuxResources {
	if r == nil {
		return nil
	}
	out := &api.LinuxResources{
		Cpu: &api.LinuxCPU{
			Cpus: r.GetCpusetCpus(),
			Mems: r.GetCpusetMems(),
		},
		Memory: &api.LinuxMemory{},
	}
	if v := r.GetCpuShares(); v > 0 {
		out.Cpu.Shares = api.UInt64(uint64(v))
	}
	if v := r.GetCpuQuota(); v != 0 {
		out.Cpu.Quota = api.Int64(v)
	}
	if v := r.GetCpuPeriod(); v > 0 {
		out.Cpu.Period = api.UInt64(uint64(v))
	}
	if v := r.GetMemoryLimitInBytes(); v > 0 {
		out.Memory.Limit = api.Int64(v)
	}
	for _, h := range r.GetHugepageLimits() {
		out.HugepageLimits = append(out.HugepageLimits, &api.HugepageLimit{PageSize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	if len(r.GetUnified()) > 0 {
		out.Unified = r.GetUnified()
	}
	return out
}

// containerOf is what plugins are told about a container, from its record
// and its OCI spec (the one being created, or the stored one).
func containerOf(r *container.Record, spec *specs.Spec, state api.ContainerState) *api.Container {
	cfg := r.Config
	c := &api.Container{
		Id:           r.ID,
		PodSandboxId: r.SandboxID,
		Name:         cfg.GetMetadata().GetName(),
		State:        state,
		Labels:       cfg.GetLabels(),
		Annotations:  cfg.GetAnnotations(),
		Pid:          uint32(max(r.Pid, 0)),
		CreatedAt:    r.CreatedAt,
		StartedAt:    r.StartedAt,
		Image:        &api.Image{Name: r.ImageRef, ConfigDigest: r.ImageID},
	}
	if spec == nil {
		var s specs.Spec
		if len(r.Spec) > 0 && json.Unmarshal(r.Spec, &s) == nil {
			spec = &s
		}
	}
	if spec == nil {
		return c
	}
	if len(spec.Annotations) > 0 {
		c.Annotations = spec.Annotations
	}
	c.Mounts = api.FromOCIMounts(spec.Mounts)
	c.Hooks = api.FromOCIHooks(spec.Hooks)
	if p := spec.Process; p != nil {
		c.Args = p.Args
		c.Env = p.Env
		c.User = &api.User{Uid: p.User.UID, Gid: p.User.GID, AdditionalGids: p.User.AdditionalGids}
		for _, rl := range p.Rlimits {
			c.Rlimits = append(c.Rlimits, &api.POSIXRlimit{Type: rl.Type, Hard: rl.Hard, Soft: rl.Soft})
		}
	}
	if l := spec.Linux; l != nil {
		c.Linux = &api.LinuxContainer{
			Namespaces:  api.FromOCILinuxNamespaces(l.Namespaces),
			Devices:     api.FromOCILinuxDevices(l.Devices),
			Resources:   api.FromOCILinuxResources(l.Resources, nil),
			CgroupsPath: l.CgroupsPath,
			Sysctl:      l.Sysctl,
		}
		if spec.Process != nil && spec.Process.OOMScoreAdj != nil {
			c.Linux.OomScoreAdj = api.Int(*spec.Process.OOMScoreAdj)
		}
		if spec.Process != nil && spec.Process.IOPriority != nil {
			c.Linux.IoPriority = api.FromOCILinuxIOPriority(spec.Process.IOPriority)
		}
	}
	return c
}

// stateOf maps a monitor's view of a container to NRI's.
func stateOf(st monitor.State) api.ContainerState {
	switch st.Status {
	case monitor.StatusCreated:
		return api.ContainerState_CONTAINER_CREATED
	case monitor.StatusRunning:
		return api.ContainerState_CONTAINER_RUNNING
	case monitor.StatusExited:
		return api.ContainerState_CONTAINER_STOPPED
	}
	return api.ContainerState_CONTAINER_UNKNOWN
}
