// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/runc"
)

// podUserns returns the pod's user namespace options when it has a user
// namespace of its own (hostUsers: false), nil when it uses the host's. An
// absent UsernsOptions means the host's; its zero mode would read as POD.
func podUserns(cfg *runtimeapi.PodSandboxConfig) *runtimeapi.UserNamespace {
	u := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	if u == nil || u.GetMode() != runtimeapi.NamespaceMode_POD {
		return nil
	}
	return u
}

// checkUserns refuses user namespace options no pod can run with, as the
// kubelet makes them: one range for users and one for groups, each mapping
// the pod's root to an unprivileged host ID, and none of the host's
// namespaces beside (their owner is the host's root).
func checkUserns(cfg *runtimeapi.PodSandboxConfig) error {
	u := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	if u == nil || u.GetMode() == runtimeapi.NamespaceMode_NODE {
		return nil
	}
	if m := u.GetMode(); m != runtimeapi.NamespaceMode_POD {
		return fmt.Errorf("user namespace mode %v: a pod's user namespace is POD or NODE", m)
	}
	for kind, ranges := range map[string][]*runtimeapi.IDMapping{"uid": u.GetUids(), "gid": u.GetGids()} {
		if len(ranges) != 1 {
			return fmt.Errorf("user namespace: %d %s mappings, podshim takes exactly one", len(ranges), kind)
		}
		r := ranges[0]
		switch {
		case r.GetContainerId() != 0:
			return fmt.Errorf("user namespace: the %s mapping starts at container ID %d, so the pod's root (0) is not mapped", kind, r.GetContainerId())
		case r.GetLength() == 0:
			return fmt.Errorf("user namespace: the %s mapping is empty", kind)
		case r.GetHostId() == 0:
			return fmt.Errorf("user namespace: the %s mapping maps the pod's root to the host's", kind)
		case uint64(r.GetHostId())+uint64(r.GetLength()) > math.MaxUint32:
			return fmt.Errorf("user namespace: the %s mapping %d+%d runs past the last ID", kind, r.GetHostId(), r.GetLength())
		}
	}
	if sc := cfg.GetLinux().GetSecurityContext(); sc.GetPrivileged() {
		return errors.New("a privileged pod cannot have a user namespace")
	}
	if hostNetwork(cfg) || hostPID(cfg) || hostIPC(cfg) {
		return errors.New("a pod with its own user namespace cannot use the host's network, PID or IPC namespace")
	}
	return nil
}

// idMappings turns checked options into the runtime spec's mappings.
func idMappings(u *runtimeapi.UserNamespace) (uids, gids []specs.LinuxIDMapping) {
	conv := func(r *runtimeapi.IDMapping) []specs.LinuxIDMapping {
		return []specs.LinuxIDMapping{{ContainerID: r.GetContainerId(), HostID: r.GetHostId(), Size: r.GetLength()}}
	}
	return conv(u.GetUids()[0]), conv(u.GetGids()[0])
}

// usernsSupported tells whether a user-namespaced pod can run under rt on
// this node, as Status advertises it.
func (m *Manager) usernsSupported(rt *runc.Runtime) error {
	if !m.opts.IDMappedLayers {
		return fmt.Errorf("%w: user namespaces: this node cannot make idmapped overlay mounts of image layers (see podshim doctor)", ErrNodeLacks)
	}
	if !rt.Features().UserNamespaces {
		return fmt.Errorf("%w: user namespaces: runtime handler %q does not support user namespaces with idmapped mounts", ErrNodeLacks, rt.Name())
	}
	return nil
}

// UserNamespaces tells whether pods under rt may have their own user
// namespace here.
func (m *Manager) UserNamespaces(rt *runc.Runtime) bool { return m.usernsSupported(rt) == nil }

// wireOwnNetNS pins the network namespace a user-namespaced pod's pause
// made and runs CNI in it, pushing the undo of each step.
func (m *Manager) wireOwnNetNS(ctx context.Context, r *Record, cleanup *undo) netOutcome {
	path, err := m.net.PinNetNS(r.ID, r.Pid)
	if err != nil {
		return netOutcome{err: fmt.Errorf("network namespace: %w", err)}
	}
	r.NetNSPath = path
	cleanup.push(func() { logTeardown(r.ID, "remove netns", m.net.RemoveNetNS(path)) })
	pod := podOf(r)
	cleanup.push(func() {
		logTeardown(r.ID, "CNI teardown", m.net.Teardown(context.WithoutCancel(ctx), pod, path))
	})
	res, err := m.net.Setup(ctx, pod, path)
	return netOutcome{res, err}
}

// IDMappings returns the ID mappings of a user-namespaced pod's
// namespace; ok is false for a pod in the host's user namespace.
func IDMappings(cfg *runtimeapi.PodSandboxConfig) (uids, gids []specs.LinuxIDMapping, ok bool) {
	u := podUserns(cfg)
	if u == nil || checkUserns(cfg) != nil {
		return nil, nil, false
	}
	uids, gids = idMappings(u)
	return uids, gids, true
}
