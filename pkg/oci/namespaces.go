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
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	join := func(t specs.LinuxNamespaceType, path string) {
		if path != "" {
			ns = append(ns, specs.LinuxNamespace{Type: t, Path: path})
		}
	}
	if err := checkUserns(opts.GetUsernsOptions(), in.PodUserNS != ""); err != nil {
		return err
	}
	// The user namespace first: the pod's other namespaces belong to it.
	if in.PodUserNS != "" {
		join(specs.UserNamespace, in.PodUserNS)
		s.Linux.UIDMappings = in.UIDMappings
		s.Linux.GIDMappings = in.GIDMappings
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

// checkUserns refuses a container whose user namespace differs from its
// pod's: the kubelet sends the pod's options again, and a container of a
// user-namespaced pod that asked for the host's would hold the host's root
// in namespaces the pod's root owns. No options means the pod's.
func checkUserns(u *runtimeapi.UserNamespace, podHasOwn bool) error {
	if u == nil {
		return nil
	}
	switch mode := u.GetMode(); {
	case mode == runtimeapi.NamespaceMode_POD && !podHasOwn:
		return invalidf("the container asks for its pod's user namespace, and the pod has none")
	case mode == runtimeapi.NamespaceMode_NODE && podHasOwn:
		return invalidf("the container asks for the host's user namespace in a pod that has its own")
	case mode != runtimeapi.NamespaceMode_POD && mode != runtimeapi.NamespaceMode_NODE:
		return invalidf("user namespace mode %v: only POD and NODE are supported", mode)
	}
	return nil
}
