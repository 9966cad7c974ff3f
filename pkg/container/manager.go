// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/keylock"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/oci"
	"github.com/podshim/podshim/pkg/records"
	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

// ErrNotFound means no container has that ID (or ID prefix).
var ErrNotFound = records.ErrNotFound

// Options configures a Manager.
type Options struct {
	// RecordDir keeps one record per container (persistent, under root).
	RecordDir string
	// StateDir holds bundles and termination-message files.
	StateDir     string
	CgroupDriver string
	// SeccompProfileRoot is the base of relative Localhost profiles.
	SeccompProfileRoot string
	// IDMappedMounts: idmapped layers and bind mounts work on this node
	// (probed by the caller), as user-namespaced pods need.
	IDMappedMounts bool
}

// Manager runs containers inside pod sandboxes.
type Manager struct {
	opts      Options
	store     *records.Store[Record]
	images    *storage.Store
	sandboxes *sandbox.Manager
	features  oci.KernelFeatures
	cgroups   hierarchy // where stats read the containers' cgroups
	oomMin    int
	nofile    uint64
	locks     keylock.Set
	// notify hears of lifecycle changes (SetNotifier).
	notify Notifier
	// hooks are NRI's (SetHooks); nil without NRI.
	hooks Hooks
	// exited keeps the final state of containers whose exit was reported
	// (id → monitor.State): it never changes again, so no call after the
	// first asks the monitor for it.
	exited sync.Map
	// cgroupDirs memoizes each container's cgroup dir (ContainerCgroup).
	cgroupDirs sync.Map
	// users memoizes each container's process user (ProcessUser).
	users sync.Map
}

// New opens the container records.
func New(opts Options, images *storage.Store, sandboxes *sandbox.Manager) (*Manager, error) {
	st, err := records.Open(opts.RecordDir, codec())
	if err != nil {
		return nil, err
	}
	f := detectFeatures()
	f.IDMappedMounts = opts.IDMappedMounts
	return &Manager{
		opts: opts, store: st, images: images, sandboxes: sandboxes,
		features: f, cgroups: hostHierarchy(f.CgroupV2, f.SwapAccounting),
		oomMin: oci.OOMScoreAdjFloor(), nofile: nofileLimit(),
	}, nil
}

func (m *Manager) lock(id string) func() { return m.locks.Lock(id) }

// IDs returns the IDs of every known container.
func (m *Manager) IDs() map[string]bool {
	ids := map[string]bool{}
	for _, r := range m.store.List() {
		ids[r.ID] = true
	}
	return ids
}

// Get returns a container's record by ID or unique ID prefix.
func (m *Manager) Get(id string) (*Record, error) { return m.store.Get(id) }

// List returns every container, oldest first.
func (m *Manager) List() []*Record { return m.store.List() }

// monitorOf returns the monitor of the container's pod.
func (m *Manager) monitorOf(ctx context.Context, sandboxID string) (*monitor.Client, error) {
	return m.sandboxes.Monitor(ctx, sandboxID)
}

// detectFeatures reports what this kernel offers, so a request for what it
// lacks is refused clearly instead of failing inside runc.
func detectFeatures() oci.KernelFeatures {
	f := oci.KernelFeatures{}
	if data, err := os.ReadFile("/sys/module/apparmor/parameters/enabled"); err == nil && strings.TrimSpace(string(data)) == "Y" {
		f.AppArmor = true
	}
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		f.SELinux = true
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		f.CgroupV2 = true
	}
	f.SwapAccounting = swapAccountingAvailable(f.CgroupV2)
	if !f.SwapAccounting {
		// As containerd does: a swap limit the kernel cannot enforce is
		// dropped, not failed; said once here rather than per container.
		klog.InfoS("swap accounting not available in the memory cgroup: memory_swap_limit_in_bytes will be dropped from container resources, and memory limits do not cap swap")
	}
	f.Hugetlb = hugetlbControllerAvailable()
	if !f.Hugetlb {
		klog.InfoS("hugetlb cgroup controller not available to runc: hugepage limits will be dropped from container resources")
	}
	// mount_setattr(2) with MOUNT_ATTR_RDONLY recursively: Linux 5.12+.
	f.RecursiveReadOnly = kernelAtLeast(5, 12)
	f.Capabilities = boundingCapabilities()
	return f
}

// boundingCapabilities lists the capabilities the daemon itself may grant:
// "ALL" and privileged mean these, as in containerd, since runc cannot give
// a container one the runtime lacks (here CAP_SYS_RESOURCE may be missing).
func boundingCapabilities() []string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		hexMask, ok := strings.CutPrefix(line, "CapBnd:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hexMask), 16, 64)
		if err != nil {
			return nil
		}
		var out []string
		for i, name := range oci.KnownCapabilities() {
			if mask&(1<<uint(i)) != 0 {
				out = append(out, name)
			}
		}
		return out
	}
	return nil
}

// nofileLimit is oci.DefaultNofile clamped to the daemon's own hard limit,
// which nothing it starts may exceed without CAP_SYS_RESOURCE.
func nofileLimit() uint64 {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return min(uint64(oci.DefaultNofile), rl.Max)
}

// RecursiveReadOnlyMounts reports whether this kernel can make a mount
// read-only recursively (mount_setattr), as Status advertises.
func (m *Manager) RecursiveReadOnlyMounts() bool { return m.features.RecursiveReadOnly }

// swapAccountingAvailable tells whether the memory controller accounts
// swap: memory.memsw.* on cgroup v1, memory.swap.max in the cgroups below
// the root on v2 (the root has none).
func swapAccountingAvailable(v2 bool) bool {
	if !v2 {
		_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
		return err == nil
	}
	found, _ := filepath.Glob("/sys/fs/cgroup/*/memory.swap.max")
	return len(found) > 0
}
