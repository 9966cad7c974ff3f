// SPDX-License-Identifier: Apache-2.0

package oci

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// withNamespaces puts the container in its own mount namespace and in the
// pod's network, IPC and UTS namespaces (the host's where the pod shares
// them: no entry means runc stays in its own). The PID namespace follows
// the container's mode: POD joins the pod's, CONTAINER gets a new one,
// NODE keeps the host's, TARGET joins another container's (TargetPIDNS). Unprivileged containers on cgroup v2 get their
// own cgroup namespace, so /sys/fs/cgroup shows their own subtree.
func withNamespaces(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	opts := sc.GetNamespaceOptions()
	if u := opts.GetUsernsOptions(); u != nil && u.GetMode() != runtimeapi.NamespaceMode_NODE {
		return unsupportedf("user namespaces (mode %v): podshim does not support them yet", u.GetMode())
	}
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	join := func(t specs.LinuxNamespaceType, path string) {
		if path != "" {
			ns = append(ns, specs.LinuxNamespace{Type: t, Path: path})
		}
	}
	join(specs.NetworkNamespace, in.PodNetNS)
	join(specs.IPCNamespace, in.PodIPCNS)
	join(specs.UTSNamespace, in.PodUTSNS)
	switch mode := opts.GetPid(); mode {
	case runtimeapi.NamespaceMode_POD:
		join(specs.PIDNamespace, in.PodPIDNS)
	case runtimeapi.NamespaceMode_CONTAINER:
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	case runtimeapi.NamespaceMode_NODE:
	case runtimeapi.NamespaceMode_TARGET:
		if in.TargetPIDNS == "" {
			return invalidf("PID namespace of container %q: the target's namespace is unknown", opts.GetTargetId())
		}
		join(specs.PIDNamespace, in.TargetPIDNS)
	default:
		return invalidf("unknown PID namespace mode %v", mode)
	}
	if in.Features.CgroupV2 && !sc.GetPrivileged() {
		ns = append(ns, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	}
	s.Linux.Namespaces = ns
	return nil
}
