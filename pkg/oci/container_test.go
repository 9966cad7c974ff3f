// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"encoding/json"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func privilegedInput() ContainerInput {
	in := testInput()
	secCtx(&in).Privileged = true
	in.Sandbox.Linux.SecurityContext.Privileged = true
	return in
}

func TestPrivileged(t *testing.T) {
	in := privilegedInput()
	in.Features.AppArmor = true
	in.AppArmorDefaultProfile = "podshim-default"
	in.HostDevices = fakeHostDevices
	in.PrivilegedDevices = func() ([]specs.LinuxDevice, error) {
		return []specs.LinuxDevice{{Path: "/dev/sda", Type: "b", Major: 8}, {Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}, nil
	}
	sc := secCtx(&in)
	sc.Capabilities = &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}
	sc.MaskedPaths, sc.ReadonlyPaths = DefaultMaskedPaths(), DefaultReadonlyPaths()
	sc.Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	in.Config.Devices = []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"}}
	s := mustSpec(t, in)

	if !sameSet(s.Process.Capabilities.Bounding, KnownCapabilities()) || !sameSet(s.Process.Capabilities.Effective, KnownCapabilities()) {
		t.Errorf("privileged: want every capability, got %v", s.Process.Capabilities.Bounding)
	}
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("privileged: nothing masked, got %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if !hasOption(mountAt(s, "/sys"), "rw") || !hasOption(mountAt(s, "/sys/fs/cgroup"), "rw") {
		t.Error("privileged: /sys and the cgroup tree are writable")
	}
	if s.Linux.Seccomp != nil || s.Process.ApparmorProfile != "" {
		t.Error("privileged: no seccomp, no AppArmor")
	}
	if r := s.Linux.Resources.Devices; len(r) != 1 || !r[0].Allow || r[0].Access != "rwm" || r[0].Major != nil {
		t.Errorf("privileged: the device cgroup allows everything, got %+v", r)
	}
	if deviceAt(s, "/dev/sda") == nil || deviceAt(s, "/dev/fuse") == nil || len(s.Linux.Devices) != 2 {
		t.Errorf("privileged: every host device, once: %+v", s.Linux.Devices)
	}

	in = testInput()
	secCtx(&in).Privileged = true
	wantErr(t, in, ErrInvalid, "privileged")
}

func TestMaskedAndReadonlyPaths(t *testing.T) {
	in := testInput()
	sc := secCtx(&in)
	sc.MaskedPaths, sc.ReadonlyPaths = DefaultMaskedPaths(), DefaultReadonlyPaths()
	s := mustSpec(t, in)
	if !slices.Equal(s.Linux.MaskedPaths, DefaultMaskedPaths()) || !slices.Equal(s.Linux.ReadonlyPaths, DefaultReadonlyPaths()) {
		t.Errorf("the kubelet's defaults pass through: %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	if !slices.Contains(s.Linux.MaskedPaths, "/proc/kcore") || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sys") {
		t.Error("the usual suspects should be hidden")
	}

	sc.MaskedPaths, sc.ReadonlyPaths = []string{"/proc/custom"}, []string{"/proc/ro"}
	s = mustSpec(t, in)
	if !slices.Equal(s.Linux.MaskedPaths, []string{"/proc/custom"}) || !slices.Equal(s.Linux.ReadonlyPaths, []string{"/proc/ro"}) {
		t.Errorf("the CRI's lists replace the defaults: %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}

	// An Unmasked proc mount arrives as empty lists.
	sc.MaskedPaths, sc.ReadonlyPaths = nil, nil
	s = mustSpec(t, in)
	if len(s.Linux.MaskedPaths) != 0 || len(s.Linux.ReadonlyPaths) != 0 {
		t.Errorf("empty lists mean unmasked: %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
}

func TestNoNewPrivs(t *testing.T) {
	in := testInput()
	if mustSpec(t, in).Process.NoNewPrivileges {
		t.Error("no_new_privs is off unless asked")
	}
	secCtx(&in).NoNewPrivs = true
	if !mustSpec(t, in).Process.NoNewPrivileges {
		t.Error("no_new_privs asked")
	}
}

func TestAnnotations(t *testing.T) {
	in := testInput()
	in.Config.Annotations = map[string]string{
		"io.kubernetes.container.hash":     "abc",
		"org.systemd.property.CPUQuota":    "1%",
		"io.kubernetes.cri.container-type": "sandbox",
	}
	a := mustSpec(t, in).Annotations
	for k, v := range map[string]string{
		"io.kubernetes.container.hash":        "abc",
		"io.kubernetes.cri.container-type":    "container",
		"io.kubernetes.cri.sandbox-id":        "pod1",
		"io.kubernetes.cri.container-name":    "app",
		"io.kubernetes.cri.image-name":        "docker.io/library/busybox:1",
		"io.kubernetes.cri.sandbox-name":      "web",
		"io.kubernetes.cri.sandbox-namespace": "default",
		"io.kubernetes.cri.sandbox-uid":       "uid-1",
	} {
		if a[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["org.systemd.property.CPUQuota"]; ok {
		t.Error("annotations runc acts on must not pass through")
	}
}

func TestSpecIsValidJSON(t *testing.T) {
	in := userInput()
	in.Features = KernelFeatures{CgroupV2: true, SwapAccounting: true}
	secCtx(&in).Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	secCtx(&in).RunAsUser = &runtimeapi.Int64Value{Value: 1000}
	in.Config.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1 << 30}
	s := mustSpec(t, in)
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back specs.Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != specs.Version || back.Process.User.UID != 1000 || back.Linux.Seccomp == nil {
		t.Errorf("round trip lost something: %+v", back.Process.User)
	}
}

func TestNilConfig(t *testing.T) {
	wantErr(t, ContainerInput{}, ErrInvalid, "config")
}
