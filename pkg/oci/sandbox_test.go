// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func namespaces(s *specs.Spec) map[specs.LinuxNamespaceType]string {
	out := map[specs.LinuxNamespaceType]string{}
	for _, n := range s.Linux.Namespaces {
		out[n.Type] = n.Path
	}
	return out
}

func TestSandboxSpecOwnsThePodNamespaces(t *testing.T) {
	s := SandboxSpec(Sandbox{Hostname: "web", Rootfs: "/r", NetNSPath: "/run/netns/x", CgroupsPath: "/podshim/x"})
	ns := namespaces(s)
	for _, want := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
		if p, ok := ns[want]; !ok || p != "" {
			t.Errorf("pause should create a new %s namespace: %v", want, ns)
		}
	}
	if ns[specs.NetworkNamespace] != "/run/netns/x" {
		t.Errorf("pause should join the pinned netns: %v", ns)
	}
	if s.Hostname != "web" || s.Process.User.UID != PauseUID || !s.Root.Readonly || s.Process.Args[0] != "/pause" {
		t.Errorf("spec: %+v", s)
	}
	if len(s.Process.Capabilities.Bounding) != 0 || !s.Process.NoNewPrivileges {
		t.Error("pause needs no privilege")
	}
}

func TestSandboxSpecHostModes(t *testing.T) {
	s := SandboxSpec(Sandbox{Hostname: "node", HostNetwork: true, HostPID: true, HostIPC: true})
	ns := namespaces(s)
	for _, gone := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.NetworkNamespace} {
		if _, ok := ns[gone]; ok {
			t.Errorf("host mode should not create a %s namespace", gone)
		}
	}
	if s.Hostname != "" {
		t.Error("a host-network pod keeps the node's hostname; runc refuses a hostname without a UTS namespace")
	}
}

func TestCheckSysctls(t *testing.T) {
	ok := map[string]string{"kernel.shm_rmid_forced": "1", "net.ipv4.ip_forward": "1", "fs.mqueue.msg_max": "10", "net/ipv4/ip_local_port_range": "1024 65000"}
	if err := CheckSysctls(ok, false, false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sysctls          map[string]string
		hostNet, hostIPC bool
		mention          string
	}{
		{map[string]string{"kernel.panic": "1"}, false, false, "kernel.panic"},
		{map[string]string{"vm.swappiness": "1"}, false, false, "vm.swappiness"},
		{map[string]string{"net.ipv4.ip_forward": "1"}, true, false, "net.ipv4.ip_forward"},
		{map[string]string{"kernel.msgmax": "1"}, false, true, "kernel.msgmax"},
	} {
		err := CheckSysctls(c.sysctls, c.hostNet, c.hostIPC)
		if err == nil || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%v: want an error naming %s, got %v", c.sysctls, c.mention, err)
		}
	}
}

// A user-namespaced pod's pause makes the user namespace and, inside it, a
// network namespace of its own (the pinned one would belong to the host's
// root); a range too small for PauseUID runs the pause as the pod's root.
func TestSandboxSpecWithAUserNamespace(t *testing.T) {
	small := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 1000}}
	s := SandboxSpec(Sandbox{Rootfs: "/r", NetNSPath: "/run/netns/x", UIDMappings: small, GIDMappings: small})
	ns := namespaces(s)
	if p, ok := ns[specs.UserNamespace]; !ok || p != "" {
		t.Errorf("pause should create the user namespace: %v", ns)
	}
	if p, ok := ns[specs.NetworkNamespace]; !ok || p != "" {
		t.Errorf("pause should create its network namespace in its user namespace: %v", ns)
	}
	if len(s.Linux.UIDMappings) != 1 || len(s.Linux.GIDMappings) != 1 {
		t.Errorf("mappings %+v %+v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	if s.Process.User.UID != 0 || s.Process.User.GID != 0 {
		t.Errorf("pause runs as %d:%d, outside its 1000 mapped IDs", s.Process.User.UID, s.Process.User.GID)
	}
	big := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	if s := SandboxSpec(Sandbox{Rootfs: "/r", UIDMappings: big, GIDMappings: big}); s.Process.User.UID != PauseUID {
		t.Errorf("pause runs as %d, want %d inside a 65536 range", s.Process.User.UID, PauseUID)
	}
}
