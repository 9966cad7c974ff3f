// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"maps"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// withResources maps the CRI's cgroup settings (zero means not set) and
// the process's oom_score_adj, raised to OOMScoreAdjMin.
func withResources(s *specs.Spec, in *ContainerInput) error {
	r := in.Config.GetLinux().GetResources()
	adj, err := OOMScoreAdj(r.GetOomScoreAdj(), in.OOMScoreAdjMin)
	if err != nil {
		return err
	}
	s.Process.OOMScoreAdj = &adj
	lr, err := LinuxResources(r, in.Features)
	if err != nil {
		return err
	}
	// The device rules were set by withDevices.
	lr.Devices = s.Linux.Resources.Devices
	s.Linux.Resources = lr
	return nil
}

// OOMScoreAdj checks a requested oom_score_adj and raises it to min.
func OOMScoreAdj(requested int64, min int) (int, error) {
	if requested < -1000 || requested > 1000 {
		return 0, invalidf("oom_score_adj %d out of range -1000..1000", requested)
	}
	adj := int(requested)
	if adj < min {
		adj = min
	}
	return adj, nil
}

// LinuxResources maps CRI resources to OCI ones (without device rules);
// UpdateContainerResources can use it too. Zero values are left unset.
func LinuxResources(r *runtimeapi.LinuxContainerResources, f KernelFeatures) (*specs.LinuxResources, error) {
	out := &specs.LinuxResources{}
	if r == nil {
		return out, nil
	}
	if r.GetCpuPeriod() < 0 || r.GetCpuShares() < 0 || r.GetMemoryLimitInBytes() < 0 {
		return nil, invalidf("negative cpu_period, cpu_shares or memory_limit_in_bytes")
	}
	cpu := &specs.LinuxCPU{Cpus: r.GetCpusetCpus(), Mems: r.GetCpusetMems()}
	if v := uint64(r.GetCpuPeriod()); v != 0 {
		cpu.Period = &v
	}
	if v := r.GetCpuQuota(); v != 0 {
		cpu.Quota = &v
	}
	if v := uint64(r.GetCpuShares()); v != 0 {
		cpu.Shares = &v
	}
	if *cpu != (specs.LinuxCPU{}) {
		out.CPU = cpu
	}

	mem := &specs.LinuxMemory{}
	if v := r.GetMemoryLimitInBytes(); v != 0 {
		mem.Limit = &v
		// No swap beyond the memory limit unless the CRI grants some.
		if f.SwapAccounting && r.GetMemorySwapLimitInBytes() == 0 {
			mem.Swap = &v
		}
	}
	if v := r.GetMemorySwapLimitInBytes(); v != 0 && f.SwapAccounting {
		mem.Swap = &v
	}
	if mem.Limit != nil || mem.Swap != nil {
		out.Memory = mem
	}

	if f.Hugetlb {
		for _, h := range r.GetHugepageLimits() {
			if h.GetPageSize() == "" {
				return nil, invalidf("hugepage limit without a page size")
			}
			out.HugepageLimits = append(out.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: h.GetPageSize(), Limit: h.GetLimit()})
		}
	}
	if len(r.GetUnified()) > 0 {
		out.Unified = maps.Clone(r.GetUnified())
	}
	return out, nil
}
