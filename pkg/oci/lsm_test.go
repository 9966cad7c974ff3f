// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestAppArmorWithoutKernelSupport(t *testing.T) {
	for _, c := range []struct {
		sp      *runtimeapi.SecurityProfile
		legacy  string
		mention string
	}{
		{sp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "k8s-nginx"}, mention: "localhost/k8s-nginx"},
		{sp: &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, mention: "runtime/default"},
		{legacy: "localhost/k8s-nginx", mention: "k8s-nginx"},
	} {
		in := testInput()
		secCtx(&in).Apparmor, secCtx(&in).ApparmorProfile = c.sp, c.legacy
		wantErr(t, in, ErrUnsupported, c.mention, "AppArmor")
	}
	// Unconfined, or nothing, is fine without AppArmor.
	for _, sp := range []*runtimeapi.SecurityProfile{nil, {ProfileType: runtimeapi.SecurityProfile_Unconfined}} {
		in := testInput()
		secCtx(&in).Apparmor = sp
		if p := mustSpec(t, in).Process.ApparmorProfile; p != "" {
			t.Errorf("%v: profile %q", sp, p)
		}
	}
}

func TestAppArmor(t *testing.T) {
	for _, c := range []struct {
		sp         *runtimeapi.SecurityProfile
		defaultP   string
		privileged bool
		want       string
	}{
		{nil, "podshim-default", false, "podshim-default"},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, "podshim-default", false, "podshim-default"},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, "", false, ""},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, "podshim-default", false, ""},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "k8s-nginx"}, "", false, "k8s-nginx"},
		{&runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: "k8s-nginx"}, "", true, ""},
	} {
		in := testInput()
		in.Features.AppArmor = true
		in.AppArmorDefaultProfile = c.defaultP
		secCtx(&in).Apparmor = c.sp
		secCtx(&in).Privileged = c.privileged
		in.Sandbox.Linux.SecurityContext.Privileged = c.privileged
		if got := mustSpec(t, in).Process.ApparmorProfile; got != c.want {
			t.Errorf("%v (default %q, privileged %v): profile %q, want %q", c.sp, c.defaultP, c.privileged, got, c.want)
		}
	}
	in := testInput()
	in.Features.AppArmor = true
	secCtx(&in).Apparmor = &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault, LocalhostRef: "x"}
	wantErr(t, in, ErrInvalid, "localhost_ref")
}

func TestSELinux(t *testing.T) {
	in := testInput()
	secCtx(&in).SelinuxOptions = &runtimeapi.SELinuxOption{Level: "s0:c1,c2"}
	s := mustSpec(t, in)
	if s.Process.SelinuxLabel != "" || s.Linux.MountLabel != "" {
		t.Error("without SELinux the options are ignored")
	}

	in.Features.SELinux = true
	s = mustSpec(t, in)
	if s.Process.SelinuxLabel != "system_u:system_r:container_t:s0:c1,c2" || s.Linux.MountLabel != "system_u:object_r:container_file_t:s0:c1,c2" {
		t.Errorf("labels %q %q", s.Process.SelinuxLabel, s.Linux.MountLabel)
	}

	// The pod's options when the container has none.
	in = testInput()
	in.Features.SELinux = true
	in.Sandbox.Linux.SecurityContext.SelinuxOptions = &runtimeapi.SELinuxOption{Type: "spc_t", Level: "s0"}
	if got := mustSpec(t, in).Process.SelinuxLabel; got != "system_u:system_r:spc_t:s0" {
		t.Errorf("pod label %q", got)
	}
}
