// SPDX-License-Identifier: Apache-2.0

package oci

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// PauseUID is the user the pause process runs as unless the pod says
// otherwise: it needs no privilege at all.
const PauseUID = 65535

// Sandbox describes the pause process of one pod.
type Sandbox struct {
	Hostname string
	// Rootfs is a directory holding the pause binary at /pause.
	Rootfs string
	// NetNSPath is the pinned network namespace; empty with HostNetwork.
	NetNSPath   string
	HostNetwork bool
	HostPID     bool
	HostIPC     bool
	CgroupsPath string
	Sysctls     map[string]string
	OOMScoreAdj int
	// UID and GID of the pause process; nil means PauseUID.
	UID, GID    *uint32
	Annotations map[string]string
	// UIDMappings and GIDMappings, when set, give the pod its own user
	// namespace. Its network namespace is then a new one too, made by the
	// pause in that user namespace (NetNSPath is ignored): the pod's root
	// must own it to mount sysfs and set its network sysctls. The caller
	// pins it once the pause exists.
	UIDMappings, GIDMappings []specs.LinuxIDMapping
}

// mapped reports whether id is inside one of the mappings' container
// ranges.
func mapped(id uint32, m []specs.LinuxIDMapping) bool {
	for _, r := range m {
		if id >= r.ContainerID && id-r.ContainerID < r.Size {
			return true
		}
	}
	return false
}

// SandboxSpec builds the runtime spec of a pod's pause process. The pause
// owns the namespaces the pod's containers will join: IPC and UTS always
// (unless the host's are asked for), PID for a shared process namespace,
// and the network namespace podshim pinned, so the pod's network outlives
// any one process in it.
func SandboxSpec(in Sandbox) *specs.Spec {
	uid, gid := uint32(PauseUID), uint32(PauseUID)
	if in.UID != nil {
		uid = *in.UID
	}
	if in.GID != nil {
		gid = *in.GID
	}
	userns := len(in.UIDMappings) > 0
	// A pod's user namespace may be too small for PauseUID; its root is
	// as unprivileged on the host.
	if userns && in.UID == nil && !mapped(uid, in.UIDMappings) {
		uid = 0
	}
	if userns && in.GID == nil && !mapped(gid, in.GIDMappings) {
		gid = 0
	}
	oom := in.OOMScoreAdj
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: in.Rootfs, Readonly: true},
		Process: &specs.Process{
			Args:            []string{"/pause"},
			Env:             []string{DefaultPath},
			Cwd:             "/",
			User:            specs.User{UID: uid, GID: gid},
			NoNewPrivileges: true,
			OOMScoreAdj:     &oom,
			// No capabilities: pause only sleeps and reaps.
			Capabilities: &specs.LinuxCapabilities{},
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		},
		Annotations: in.Annotations,
		Linux: &specs.Linux{
			CgroupsPath:   in.CgroupsPath,
			Sysctl:        in.Sysctls,
			MaskedPaths:   DefaultMaskedPaths(),
			ReadonlyPaths: DefaultReadonlyPaths(),
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
		},
	}
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	if userns {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings = in.UIDMappings
		s.Linux.GIDMappings = in.GIDMappings
	}
	if !in.HostPID {
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	if !in.HostIPC {
		ns = append(ns, specs.LinuxNamespace{Type: specs.IPCNamespace})
	}
	if !in.HostNetwork {
		// The hostname belongs to the pod only when the network does: a
		// host-network pod sees the node's name, as the kubelet expects.
		netns := specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: in.NetNSPath}
		if userns {
			netns.Path = ""
		}
		ns = append(ns, specs.LinuxNamespace{Type: specs.UTSNamespace}, netns)
		s.Hostname = in.Hostname
	}
	s.Linux.Namespaces = ns
	return s
}
