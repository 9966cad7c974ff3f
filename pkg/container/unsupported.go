// SPDX-License-Identifier: Apache-2.0

package container

import specs "github.com/opencontainers/runtime-spec/specs-go"

// DropUnsupported removes from res the limits this node's cgroups cannot
// take, as the kubelet's own are filtered (oci.LinuxResources): swap
// without swap accounting, hugepage limits without the hugetlb
// controller. NRI plugins' limits pass through it.
func (m *Manager) DropUnsupported(res *specs.LinuxResources) {
	if res == nil {
		return
	}
	if !m.features.SwapAccounting && res.Memory != nil {
		res.Memory.Swap = nil
	}
	if !m.features.Hugetlb {
		res.HugepageLimits = nil
	}
}
