// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/atomicfile"
	"github.com/podshim/podshim/pkg/keylock"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/oci"
	"github.com/podshim/podshim/pkg/runc"
)

// Network is what sandboxes need of pod networking.
type Network interface {
	NewNetNS(podID string) (string, error)
	PinNetNS(podID string, pid int) (string, error)
	RemoveNetNS(path string) error
	Setup(ctx context.Context, pod network.Pod, netnsPath string) (network.Result, error)
	Teardown(ctx context.Context, pod network.Pod, netnsPath string) error
	CheckAddresses(pod network.Pod, netnsPath string) error
	Intents() ([]network.Intent, error)
	ListNetNS() ([]string, error)
}

// Options configures a Manager.
type Options struct {
	// RecordDir keeps one record per sandbox (persistent, under root).
	RecordDir string
	// StateDir holds per-pod files and mounts (under the state dir).
	StateDir string
	// PauseBinary is the static pause program copied into the pause rootfs.
	PauseBinary  string
	CgroupDriver string
	// HostResolvConf and HostHosts are the node's files (for tests).
	HostResolvConf string
	HostHosts      string
	// Monitor says how to start each pod's monitor.
	Monitor MonitorOptions
	// IDMappedLayers: this node can make the idmapped overlays a
	// user-namespaced pod's containers need (see idmap.ProbeOverlay).
	IDMappedLayers bool
}

// Manager runs pod sandboxes.
type Manager struct {
	opts        Options
	store       *store
	handlers    *runc.Handlers
	net         Network
	pauseRootfs string
	oomScoreAdj int
	locks       keylock.Set
	// podLocks order the creation of a pod's containers (shared) against
	// the pod's stop and removal (exclusive), so no container is created
	// in a pod while it is being torn down.
	podLocks keylock.Set
	mon      monitors
	// notify hears of lifecycle changes (SetNotifier).
	notify func(containerID, sandboxID string, t runtimeapi.ContainerEventType)
	// hooks are NRI's (SetHooks); nil without NRI.
	hooks Hooks
}

// sandboxOOMScoreAdj is where the kubelet's runtimes put pause processes:
// near the bottom of the OOM killer's list, because losing one kills the pod.
const sandboxOOMScoreAdj = -998

// New opens the sandbox records and prepares the shared pause rootfs.
func New(opts Options, handlers *runc.Handlers, net Network) (*Manager, error) {
	if opts.HostResolvConf == "" {
		opts.HostResolvConf = "/etc/resolv.conf"
	}
	if opts.HostHosts == "" {
		opts.HostHosts = "/etc/hosts"
	}
	st, err := openStore(opts.RecordDir)
	if err != nil {
		return nil, err
	}
	m := &Manager{opts: opts, store: st, handlers: handlers, net: net,
		mon: monitors{opts: opts.Monitor, byID: map[string]*monitor.Client{}}}
	if m.pauseRootfs, err = preparePauseRootfs(opts.StateDir, opts.PauseBinary); err != nil {
		return nil, err
	}
	m.oomScoreAdj = max(sandboxOOMScoreAdj, oci.OOMScoreAdjFloor())
	return m, nil
}

func (m *Manager) lock(id string) func() { return m.locks.Lock(id) }

// LockForCreate holds a pod against being stopped or removed while one of
// its containers is created; creates in one pod do not wait on each other.
func (m *Manager) LockForCreate(id string) (unlock func()) { return m.podLocks.RLock(id) }

// LockForTeardown holds a pod's container creations off while the pod's
// containers and then the pod itself are stopped or removed.
func (m *Manager) LockForTeardown(id string) (unlock func()) { return m.podLocks.Lock(id) }

// preparePauseRootfs builds, once per daemon start, the read-only rootfs all
// pause processes share: the pause binary and the mount points runc needs.
func preparePauseRootfs(stateDir, pauseBinary string) (string, error) {
	root := filepath.Join(stateDir, "pause-rootfs")
	for _, d := range []string{"proc", "dev", "sys", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return "", fmt.Errorf("pause rootfs: %w", err)
		}
	}
	// The pause binary is a few KiB: read whole, written atomically.
	data, err := os.ReadFile(pauseBinary)
	if err != nil {
		return "", fmt.Errorf("pause binary: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(root, "pause"), data, 0o755); err != nil {
		return "", fmt.Errorf("pause rootfs: %w", err)
	}
	return root, nil
}

// Get returns the record of a sandbox by ID or unique ID prefix.
func (m *Manager) Get(id string) (*Record, error) { return m.store.Get(id) }

// List returns every sandbox, oldest first.
func (m *Manager) List() []*Record { return m.store.List() }

// Ready reports whether the sandbox's pause process runs.
func (m *Manager) Ready(r *Record) bool {
	return r.State == StateReady && alive(r.Pid, r.PidStart)
}

func podOf(r *Record) network.Pod {
	md := r.Config.GetMetadata()
	pod := network.Pod{ID: r.ID, Name: md.GetName(), Namespace: md.GetNamespace(), UID: md.GetUid()}
	for _, pm := range r.Config.GetPortMappings() {
		pod.PortMappings = append(pod.PortMappings, network.PortMapping{
			Protocol:      strings.ToLower(pm.GetProtocol().String()),
			ContainerPort: pm.GetContainerPort(),
			HostPort:      pm.GetHostPort(),
			HostIP:        pm.GetHostIp(),
		})
	}
	return pod
}

func hostNetwork(cfg *runtimeapi.PodSandboxConfig) bool {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtimeapi.NamespaceMode_NODE
}

func hostPID(cfg *runtimeapi.PodSandboxConfig) bool {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetPid() == runtimeapi.NamespaceMode_NODE
}

func hostIPC(cfg *runtimeapi.PodSandboxConfig) bool {
	return cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtimeapi.NamespaceMode_NODE
}

// logTeardown reports a cleanup step that failed; teardown carries on so
// that one stuck step does not leak everything after it.
func logTeardown(id, step string, err error) error {
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		klog.Warningf("sandbox %s: %s: %v", id, step, err)
		return fmt.Errorf("%s: %w", step, err)
	}
	return nil
}

// CheckNetwork looks whether the pod's interface still holds the addresses
// CNI gave it (netlink only, no plugin run). A host-network or stopped pod
// has nothing to check.
func (m *Manager) CheckNetwork(r *Record) error {
	if r.NetNSPath == "" || r.NetworkDown {
		return nil
	}
	return m.net.CheckAddresses(podOf(r), r.NetNSPath)
}
