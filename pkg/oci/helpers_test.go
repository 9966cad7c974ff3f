// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// testInput is a plain unprivileged container in a pod with its own
// namespaces and pod files.
func testInput() ContainerInput {
	return ContainerInput{
		ID:        "ctr1",
		SandboxID: "pod1",
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: "app"},
			Image:    &runtimeapi.ImageSpec{Image: "sha256:abc", UserSpecifiedImage: "docker.io/library/busybox:1"},
			Command:  []string{"/bin/sh"},
			Linux: &runtimeapi.LinuxContainerConfig{
				SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
					NamespaceOptions: &runtimeapi.NamespaceOption{Pid: runtimeapi.NamespaceMode_CONTAINER},
				},
			},
		},
		Sandbox: &runtimeapi.PodSandboxConfig{
			Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "uid-1"},
			Hostname: "web-0",
			Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{}},
		},
		RootfsPath:   "/var/lib/podshim/ctr1/rootfs",
		PodNetNS:     "/proc/42/ns/net",
		PodIPCNS:     "/proc/42/ns/ipc",
		PodUTSNS:     "/proc/42/ns/uts",
		PodPIDNS:     "/proc/42/ns/pid",
		HostnamePath: "/run/podshim/pod1/hostname",
		HostsPath:    "/run/podshim/pod1/hosts",
		ResolvPath:   "/run/podshim/pod1/resolv.conf",
		ShmPath:      "/run/podshim/pod1/shm",
		CgroupsPath:  "/kubepods/pod1/ctr1",
	}
}

// secCtx returns the container's security context, for tests to edit.
func secCtx(in *ContainerInput) *runtimeapi.LinuxContainerSecurityContext {
	return in.Config.Linux.SecurityContext
}

func mustSpec(t *testing.T, in ContainerInput) *specs.Spec {
	t.Helper()
	s, err := ContainerSpec(in)
	if err != nil {
		t.Fatalf("ContainerSpec: %v", err)
	}
	return s
}

// wantErr checks that ContainerSpec fails with kind and mentions each of
// the words.
func wantErr(t *testing.T, in ContainerInput, kind error, words ...string) {
	t.Helper()
	_, err := ContainerSpec(in)
	checkErr(t, err, kind, words...)
}

func checkErr(t *testing.T, err error, kind error, words ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error (%v), got none", kind)
	}
	if kind != nil && !errors.Is(err, kind) {
		t.Errorf("error %q is not %v", err, kind)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func mountAt(s *specs.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func countMounts(s *specs.Spec, dst string) int {
	n := 0
	for _, m := range s.Mounts {
		if m.Destination == dst {
			n++
		}
	}
	return n
}

func hasOption(m *specs.Mount, opt string) bool {
	if m == nil {
		return false
	}
	for _, o := range m.Options {
		if o == opt {
			return true
		}
	}
	return false
}
