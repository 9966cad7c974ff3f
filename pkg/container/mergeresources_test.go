// SPDX-License-Identifier: Apache-2.0

package container

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A plugin's update changes only the limits it sets; the container keeps
// the others.
func TestPluginUpdateChangesOnlyWhatItSets(t *testing.T) {
	shares, quota, limit, swap := uint64(256), int64(50000), int64(1<<30), int64(1<<30)
	l := &specs.Linux{Resources: &specs.LinuxResources{
		CPU:    &specs.LinuxCPU{Shares: &shares, Quota: &quota, Cpus: "0-1"},
		Memory: &specs.LinuxMemory{Limit: &limit, Swap: &swap},
	}}
	newLimit, newShares := int64(512<<20), uint64(1024)
	got := mergeResources(l, &specs.LinuxResources{
		CPU:    &specs.LinuxCPU{Shares: &newShares},
		Memory: &specs.LinuxMemory{Limit: &newLimit},
	})
	if *got.CPU.Shares != 1024 || *got.CPU.Quota != 50000 || got.CPU.Cpus != "0-1" {
		t.Errorf("cpu after the update: shares %d quota %d cpus %q; want 1024, 50000, 0-1", *got.CPU.Shares, *got.CPU.Quota, got.CPU.Cpus)
	}
	if *got.Memory.Limit != 512<<20 || *got.Memory.Swap != 512<<20 {
		t.Errorf("memory limit %d, swap %d; want 512 MiB both (swap follows the limit)", *got.Memory.Limit, *got.Memory.Swap)
	}
	if *l.Resources.CPU.Shares != 256 {
		t.Error("the stored spec's resources were changed in place")
	}
}
