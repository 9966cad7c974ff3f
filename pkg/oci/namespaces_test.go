// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestNamespaces(t *testing.T) {
	for _, c := range []struct {
		mode    runtimeapi.NamespaceMode
		pid     string
		created bool
	}{
		{runtimeapi.NamespaceMode_POD, "/proc/42/ns/pid", false},
		{runtimeapi.NamespaceMode_CONTAINER, "", true},
		{runtimeapi.NamespaceMode_NODE, "", false},
	} {
		in := testInput()
		secCtx(&in).NamespaceOptions.Pid = c.mode
		s := mustSpec(t, in)
		ns := namespaces(s)
		for typ, want := range map[specs.LinuxNamespaceType]string{
			specs.NetworkNamespace: in.PodNetNS, specs.IPCNamespace: in.PodIPCNS, specs.UTSNamespace: in.PodUTSNS, specs.MountNamespace: "",
		} {
			if got, ok := ns[typ]; !ok || got != want {
				t.Errorf("%v: %s namespace %q (present %v), want %q", c.mode, typ, got, ok, want)
			}
		}
		got, ok := ns[specs.PIDNamespace]
		if (c.pid != "" || c.created) != ok || got != c.pid {
			t.Errorf("%v: pid namespace %q (present %v), want %q (new %v)", c.mode, got, ok, c.pid, c.created)
		}
		if _, ok := ns[specs.CgroupNamespace]; ok {
			t.Error("no cgroup namespace without cgroup v2")
		}
	}

	in := testInput()
	secCtx(&in).NamespaceOptions = &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_TARGET, TargetId: "other"}
	wantErr(t, in, ErrInvalid, "other")
	in.TargetPIDNS = "/proc/77/ns/pid"
	if got := namespaces(mustSpec(t, in))[specs.PIDNamespace]; got != "/proc/77/ns/pid" {
		t.Errorf("TARGET: pid namespace %q, want the target's /proc/77/ns/pid", got)
	}

	in = testInput()
	secCtx(&in).NamespaceOptions.UsernsOptions = &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD}
	wantErr(t, in, ErrInvalid, "has none")
}

// A container of a user-namespaced pod joins the pod's user namespace
// (first: the pod's other namespaces belong to it), carries its mappings,
// and gets its volumes idmapped with them.
func TestUserNamespacedPod(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	pod := func() ContainerInput {
		in := testInput()
		in.PodUserNS, in.UIDMappings, in.GIDMappings = "/proc/7/ns/user", maps, maps
		in.Features.IDMappedMounts = true
		secCtx(&in).NamespaceOptions.UsernsOptions = &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_POD}
		in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: "/srv"}}
		return in
	}
	s := mustSpec(t, pod())
	if s.Linux.Namespaces[1].Type != specs.UserNamespace || s.Linux.Namespaces[1].Path != "/proc/7/ns/user" {
		t.Errorf("namespaces %+v: want the pod's user namespace right after the mount namespace", s.Linux.Namespaces)
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != maps[0] || len(s.Linux.GIDMappings) != 1 {
		t.Errorf("mappings %+v %+v, want the pod's", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	found := false
	for _, m := range s.Mounts {
		switch m.Destination {
		case "/data":
			found = true
			if len(m.UIDMappings) != 1 || m.UIDMappings[0] != maps[0] || len(m.GIDMappings) != 1 {
				t.Errorf("volume /data mappings %+v %+v, want the pod's", m.UIDMappings, m.GIDMappings)
			}
		case EtcHosts:
			if len(m.UIDMappings) != 0 {
				t.Errorf("the pod's own %s is idmapped: %+v", m.Destination, m.UIDMappings)
			}
		}
	}
	if !found {
		t.Fatal("no /data mount")
	}

	// No options at all: the pod's namespace all the same.
	in := pod()
	secCtx(&in).NamespaceOptions.UsernsOptions = nil
	if got := namespaces(mustSpec(t, in))[specs.UserNamespace]; got != "/proc/7/ns/user" {
		t.Errorf("a container without user namespace options got %q, want the pod's", got)
	}
	in = pod()
	secCtx(&in).NamespaceOptions.UsernsOptions = &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_NODE}
	wantErr(t, in, ErrInvalid, "host's user namespace")
	in = pod()
	secCtx(&in).NamespaceOptions.UsernsOptions = &runtimeapi.UserNamespace{Mode: runtimeapi.NamespaceMode_CONTAINER}
	wantErr(t, in, ErrInvalid, "only POD and NODE")
	in = pod()
	in.Features.IDMappedMounts = false
	wantErr(t, in, ErrUnsupported, "idmapped mount")
}

func TestHostNamespaces(t *testing.T) {
	in := testInput()
	in.PodNetNS, in.PodIPCNS, in.PodUTSNS, in.PodPIDNS = "", "", "", ""
	secCtx(&in).NamespaceOptions = &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Ipc: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_NODE}
	ns := namespaces(mustSpec(t, in))
	if len(ns) != 1 {
		t.Errorf("a host-namespace container only gets its own mount namespace: %v", ns)
	}
}

func TestCgroupNamespace(t *testing.T) {
	in := testInput()
	in.Features.CgroupV2 = true
	if _, ok := namespaces(mustSpec(t, in))[specs.CgroupNamespace]; !ok {
		t.Error("cgroup v2: want a cgroup namespace")
	}
	secCtx(&in).Privileged = true
	in.Sandbox.Linux.SecurityContext.Privileged = true
	if _, ok := namespaces(mustSpec(t, in))[specs.CgroupNamespace]; ok {
		t.Error("privileged containers see the whole cgroup tree")
	}
}
