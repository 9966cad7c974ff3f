// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"slices"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
app:x:1000:1000:App:/home/app:/bin/sh
`

const testGroup = `root:x:0:
daemon:x:1:
wheel:x:10:app,root
audio:x:29:app
staff:x:50:
app:x:1000:
`

func userInput() ContainerInput {
	in := testInput()
	in.Passwd, in.Group = []byte(testPasswd), []byte(testGroup)
	return in
}

func TestImageUser(t *testing.T) {
	for _, c := range []struct {
		user     string
		uid, gid uint32
		groups   []uint32
	}{
		{"", 0, 0, []uint32{0, 10}},
		{"0", 0, 0, []uint32{0, 10}},
		{"root", 0, 0, []uint32{0, 10}},
		{"1000", 1000, 1000, []uint32{1000, 10, 29}},
		{"app", 1000, 1000, []uint32{1000, 10, 29}},
		{"app:staff", 1000, 50, []uint32{50, 10, 29}},
		{"app:60", 1000, 60, []uint32{60, 10, 29}},
		{"1000:50", 1000, 50, []uint32{50, 10, 29}},
		{"1000:staff", 1000, 50, []uint32{50, 10, 29}},
		{"2000", 2000, 0, []uint32{0}},
		{"2000:2000", 2000, 2000, []uint32{2000}},
	} {
		in := userInput()
		in.Image.User = c.user
		u := mustSpec(t, in).Process.User
		if u.UID != c.uid || u.GID != c.gid || !slices.Equal(u.AdditionalGids, c.groups) {
			t.Errorf("USER %q: got %d:%d %v, want %d:%d %v", c.user, u.UID, u.GID, u.AdditionalGids, c.uid, c.gid, c.groups)
		}
	}
}

func TestImageUserErrors(t *testing.T) {
	for _, c := range []struct{ user, mention string }{
		{"nobody", "nobody"},
		{"app:nogroup", "nogroup"},
		{"ghost:staff", "ghost"},
		{"a:b:c", "a:b:c"},
		{":staff", ":staff"},
		{"4294967296", "out of range"},
		{"-1", "out of range"},
	} {
		in := userInput()
		in.Image.User = c.user
		wantErr(t, in, ErrInvalid, c.mention)
	}
	// Without an /etc/passwd, names cannot resolve but numbers do.
	in := testInput()
	in.Image.User = "app"
	wantErr(t, in, ErrInvalid, "app")
	in.Image.User = "1000:1000"
	if u := mustSpec(t, in).Process.User; u.UID != 1000 || u.GID != 1000 {
		t.Errorf("numeric user without passwd: %+v", u)
	}
}

func TestCRIUser(t *testing.T) {
	for _, c := range []struct {
		name     string
		edit     func(sc *runtimeapi.LinuxContainerSecurityContext)
		uid, gid uint32
		groups   []uint32
	}{
		{"run_as_user listed", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
		}, 1000, 1000, []uint32{1000, 10, 29}},
		{"run_as_user unlisted", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 4242}
		}, 4242, 0, []uint32{0}},
		{"run_as_user and run_as_group", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: 3000}
		}, 1000, 3000, []uint32{3000, 10, 29}},
		{"run_as_username", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUsername = "app"
		}, 1000, 1000, []uint32{1000, 10, 29}},
		{"run_as_username and run_as_group", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUsername = "daemon"
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: 50}
		}, 1, 50, []uint32{50}},
		{"supplemental groups merged", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
			sc.SupplementalGroups = []int64{5000, 29}
		}, 1000, 1000, []uint32{1000, 10, 29, 5000}},
		{"supplemental groups strict", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
			sc.SupplementalGroups = []int64{5000, 29}
			sc.SupplementalGroupsPolicy = runtimeapi.SupplementalGroupsPolicy_Strict
		}, 1000, 1000, []uint32{1000, 29, 5000}},
		{"strict without any", func(sc *runtimeapi.LinuxContainerSecurityContext) {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: 1000}
			sc.SupplementalGroupsPolicy = runtimeapi.SupplementalGroupsPolicy_Strict
		}, 1000, 1000, []uint32{1000}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := userInput()
			in.Image.User = "daemon" // the CRI wins over the image
			c.edit(secCtx(&in))
			u := mustSpec(t, in).Process.User
			if u.UID != c.uid || u.GID != c.gid || !slices.Equal(u.AdditionalGids, c.groups) {
				t.Errorf("got %d:%d %v, want %d:%d %v", u.UID, u.GID, u.AdditionalGids, c.uid, c.gid, c.groups)
			}
		})
	}
}

func TestCRIUserErrors(t *testing.T) {
	in := userInput()
	secCtx(&in).RunAsUsername = "ghost"
	wantErr(t, in, ErrInvalid, "ghost")

	in = userInput()
	secCtx(&in).RunAsGroup = &runtimeapi.Int64Value{Value: 5}
	wantErr(t, in, ErrInvalid, "run_as_group")

	in = userInput()
	secCtx(&in).RunAsUsername = "app"
	secCtx(&in).RunAsUser = &runtimeapi.Int64Value{Value: 1000}
	wantErr(t, in, ErrInvalid, "run_as_username")

	in = userInput()
	secCtx(&in).RunAsUser = &runtimeapi.Int64Value{Value: -5}
	wantErr(t, in, ErrInvalid, "out of range")

	in = userInput()
	secCtx(&in).RunAsUser = &runtimeapi.Int64Value{Value: 0}
	secCtx(&in).SupplementalGroups = []int64{-1}
	wantErr(t, in, ErrInvalid, "out of range")
}
