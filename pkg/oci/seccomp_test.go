// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// allowed tells whether the profile has an unconditional allow rule for
// the syscall.
func allowed(p *specs.LinuxSeccomp, name string) bool {
	for _, r := range p.Syscalls {
		if r.Action == specs.ActAllow && len(r.Args) == 0 && slices.Contains(r.Names, name) {
			return true
		}
	}
	return false
}

func TestSeccompRuntimeDefault(t *testing.T) {
	in := testInput()
	secCtx(&in).Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}
	p := mustSpec(t, in).Linux.Seccomp
	if p == nil || p.DefaultAction != specs.ActErrno || len(p.Architectures) == 0 {
		t.Fatalf("want the default profile, got %+v", p)
	}
	if !allowed(p, "read") || !allowed(p, "execve") {
		t.Error("the default profile allows ordinary syscalls")
	}
	for _, blocked := range []string{"keyctl", "add_key", "kexec_load", "mount", "unshare"} {
		if allowed(p, blocked) {
			t.Errorf("the default profile should block %s", blocked)
		}
	}

	// The rules follow the capabilities: CAP_SYS_ADMIN brings mount back.
	secCtx(&in).Capabilities = &runtimeapi.Capability{AddCapabilities: []string{"SYS_ADMIN"}}
	if p := mustSpec(t, in).Linux.Seccomp; !allowed(p, "mount") {
		t.Error("CAP_SYS_ADMIN should allow mount")
	}

	// The deprecated path spellings.
	for _, path := range []string{"runtime/default", "docker/default"} {
		in := testInput()
		secCtx(&in).SeccompProfilePath = path
		if mustSpec(t, in).Linux.Seccomp == nil {
			t.Errorf("%s should give the default profile", path)
		}
	}
}

func TestSeccompUnconfined(t *testing.T) {
	for name, edit := range map[string]func(sc *runtimeapi.LinuxContainerSecurityContext){
		"nothing asked": func(sc *runtimeapi.LinuxContainerSecurityContext) {},
		"Unconfined": func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}
		},
		"unconfined path": func(sc *runtimeapi.LinuxContainerSecurityContext) { sc.SeccompProfilePath = "unconfined" },
	} {
		in := testInput()
		edit(secCtx(&in))
		if p := mustSpec(t, in).Linux.Seccomp; p != nil {
			t.Errorf("%s: want no seccomp, got %+v", name, p)
		}
	}
}

const ociProfile = `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}`

func TestSeccompLocalhost(t *testing.T) {
	files := map[string]string{
		"/var/lib/kubelet/seccomp/good.json":  ociProfile,
		"/var/lib/kubelet/seccomp/bad.json":   `{"defaultAction": `,
		"/var/lib/kubelet/seccomp/empty.json": `{}`,
	}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, errors.New("no such file")
	}
	profile := func(ref string) ContainerInput {
		in := testInput()
		in.ReadProfile = read
		in.SeccompProfileRoot = "/var/lib/kubelet/seccomp"
		secCtx(&in).Seccomp = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: ref}
		return in
	}

	for _, ref := range []string{"/var/lib/kubelet/seccomp/good.json", "good.json", "localhost/good.json"} {
		p := mustSpec(t, profile(ref)).Linux.Seccomp
		if p == nil || p.DefaultAction != specs.ActErrno || !allowed(p, "write") || allowed(p, "open") {
			t.Errorf("%s: %+v", ref, p)
		}
	}
	in := testInput()
	in.ReadProfile = read
	secCtx(&in).SeccompProfilePath = "localhost//var/lib/kubelet/seccomp/good.json"
	if p := mustSpec(t, in).Linux.Seccomp; p == nil || !allowed(p, "read") {
		t.Errorf("deprecated localhost path: %+v", p)
	}

	wantErr(t, profile("bad.json"), ErrInvalid, "bad.json")
	wantErr(t, profile("empty.json"), ErrInvalid, "empty.json")
	wantErr(t, profile("missing.json"), ErrInvalid, "missing.json")
	wantErr(t, profile("../../../etc/passwd"), ErrInvalid, "profile root")
	wantErr(t, profile(""), ErrInvalid, "localhost_ref")

	in = testInput()
	secCtx(&in).SeccompProfilePath = "sideways"
	wantErr(t, in, ErrInvalid, "sideways")
}
