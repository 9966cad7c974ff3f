// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResources(t *testing.T) {
	in := testInput()
	in.Features = KernelFeatures{SwapAccounting: true, Hugetlb: true}
	in.Config.Linux.Resources = &runtimeapi.LinuxContainerResources{
		CpuPeriod:          100000,
		CpuQuota:           50000,
		CpuShares:          512,
		CpusetCpus:         "0-1",
		CpusetMems:         "0",
		MemoryLimitInBytes: 256 << 20,
		OomScoreAdj:        500,
		HugepageLimits:     []*runtimeapi.HugepageLimit{{PageSize: "2MB", Limit: 4 << 20}},
		Unified:            map[string]string{"memory.high": "200000000"},
	}
	s := mustSpec(t, in)
	r := s.Linux.Resources
	if r.CPU == nil || *r.CPU.Period != 100000 || *r.CPU.Quota != 50000 || *r.CPU.Shares != 512 || r.CPU.Cpus != "0-1" || r.CPU.Mems != "0" {
		t.Errorf("cpu %+v", r.CPU)
	}
	if r.Memory == nil || *r.Memory.Limit != 256<<20 || r.Memory.Swap == nil || *r.Memory.Swap != 256<<20 {
		t.Errorf("memory %+v: the swap limit should default to the memory limit", r.Memory)
	}
	if len(r.HugepageLimits) != 1 || r.HugepageLimits[0].Pagesize != "2MB" || r.HugepageLimits[0].Limit != 4<<20 {
		t.Errorf("hugepages %+v", r.HugepageLimits)
	}
	if r.Unified["memory.high"] != "200000000" {
		t.Errorf("unified %+v", r.Unified)
	}
	if *s.Process.OOMScoreAdj != 500 {
		t.Errorf("oom_score_adj %d", *s.Process.OOMScoreAdj)
	}
	if len(r.Devices) == 0 {
		t.Error("the device rules survive")
	}

	in.Config.Linux.Resources.MemorySwapLimitInBytes = 512 << 20
	if m := mustSpec(t, in).Linux.Resources.Memory; *m.Swap != 512<<20 {
		t.Errorf("explicit swap limit: %d", *m.Swap)
	}
	in.Features = KernelFeatures{}
	r = mustSpec(t, in).Linux.Resources
	if r.Memory.Swap != nil || r.HugepageLimits != nil {
		t.Errorf("without swap accounting or hugetlb: %+v %+v", r.Memory, r.HugepageLimits)
	}
}

func TestNoResources(t *testing.T) {
	s := mustSpec(t, testInput())
	if r := s.Linux.Resources; r.CPU != nil || r.Memory != nil || r.Unified != nil {
		t.Errorf("nothing asked, nothing set: %+v", r)
	}
	if s.Process.OOMScoreAdj == nil || *s.Process.OOMScoreAdj != 0 {
		t.Errorf("oom_score_adj %v", s.Process.OOMScoreAdj)
	}
}

func TestOOMScoreAdjClamp(t *testing.T) {
	for _, c := range []struct {
		requested int64
		min, want int
	}{
		{-998, -500, -500},
		{-998, -999, -998},
		{1000, -500, 1000},
		{0, 0, 0},
	} {
		in := testInput()
		in.OOMScoreAdjMin = c.min
		in.Config.Linux.Resources = &runtimeapi.LinuxContainerResources{OomScoreAdj: c.requested}
		if got := *mustSpec(t, in).Process.OOMScoreAdj; got != c.want {
			t.Errorf("requested %d, min %d: got %d, want %d", c.requested, c.min, got, c.want)
		}
	}
	in := testInput()
	in.Config.Linux.Resources = &runtimeapi.LinuxContainerResources{OomScoreAdj: 1001}
	wantErr(t, in, ErrInvalid, "1001")
}
