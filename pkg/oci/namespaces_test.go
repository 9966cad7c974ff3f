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
	wantErr(t, in, ErrUnsupported, "user namespace")
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
