// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// fakeHostDevices knows /dev/fuse and the directory /dev/dri.
func fakeHostDevices(p string) ([]specs.LinuxDevice, error) {
	switch p {
	case "/dev/fuse":
		return []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}}, nil
	case "/dev/dri":
		return []specs.LinuxDevice{
			{Path: "/dev/dri/card0", Type: "c", Major: 226, Minor: 0},
			{Path: "/dev/dri/renderD128", Type: "c", Major: 226, Minor: 128},
		}, nil
	}
	return nil, errors.New("no such file or directory")
}

func deviceAt(s *specs.Spec, p string) *specs.LinuxDevice {
	for i := range s.Linux.Devices {
		if s.Linux.Devices[i].Path == p {
			return &s.Linux.Devices[i]
		}
	}
	return nil
}

func allowRule(s *specs.Spec, major, minor int64) *specs.LinuxDeviceCgroup {
	for i, r := range s.Linux.Resources.Devices {
		if r.Allow && r.Major != nil && *r.Major == major && r.Minor != nil && *r.Minor == minor {
			return &s.Linux.Resources.Devices[i]
		}
	}
	return nil
}

func TestDefaultDeviceRules(t *testing.T) {
	s := mustSpec(t, testInput())
	rules := s.Linux.Resources.Devices
	if len(rules) == 0 || rules[0].Allow || rules[0].Access != "rwm" || rules[0].Major != nil {
		t.Fatalf("the first rule should deny everything: %+v", rules)
	}
	for _, mm := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}} {
		if r := allowRule(s, mm[0], mm[1]); r == nil || r.Type != "c" {
			t.Errorf("%d:%d should be allowed", mm[0], mm[1])
		}
	}
	if len(s.Linux.Devices) != 0 {
		t.Errorf("no device nodes unless asked: %+v", s.Linux.Devices)
	}
}

func TestCRIDevices(t *testing.T) {
	in := testInput()
	in.HostDevices = fakeHostDevices
	in.Config.Devices = []*runtimeapi.Device{
		{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"},
		{HostPath: "/dev/dri", ContainerPath: "/dev/gpu", Permissions: "mrw"},
		{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse2"},
	}
	s := mustSpec(t, in)
	for p, mm := range map[string][2]int64{"/dev/fuse": {10, 229}, "/dev/gpu/card0": {226, 0}, "/dev/gpu/renderD128": {226, 128}, "/dev/fuse2": {10, 229}} {
		d := deviceAt(s, p)
		if d == nil || d.Major != mm[0] || d.Minor != mm[1] {
			t.Errorf("%s: %+v", p, d)
		}
	}
	if r := allowRule(s, 10, 229); r == nil || r.Access != "rw" || r.Type != "c" {
		t.Errorf("fuse rule %+v", r)
	}
	if r := allowRule(s, 226, 128); r == nil || r.Access != "mrw" {
		t.Errorf("dri rule %+v", r)
	}
	if r := s.Linux.Resources.Devices[0]; r.Allow || r.Major != nil {
		t.Errorf("deny-all comes first: %+v", r)
	}
}

func TestCRIDeviceErrors(t *testing.T) {
	for _, c := range []struct {
		dev     *runtimeapi.Device
		mention string
	}{
		{&runtimeapi.Device{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rwx"}, "rwx"},
		{&runtimeapi.Device{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rr"}, "rr"},
		{&runtimeapi.Device{HostPath: "/dev/nope", ContainerPath: "/dev/nope", Permissions: "rw"}, "/dev/nope"},
		{&runtimeapi.Device{HostPath: "dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"}, "dev/fuse"},
	} {
		in := testInput()
		in.HostDevices = fakeHostDevices
		in.Config.Devices = []*runtimeapi.Device{c.dev}
		wantErr(t, in, ErrInvalid, c.mention)
	}
	in := testInput()
	in.Config.Devices = []*runtimeapi.Device{{HostPath: "/dev/fuse", ContainerPath: "/dev/fuse", Permissions: "rw"}}
	if _, err := ContainerSpec(in); err == nil || !strings.Contains(err.Error(), "HostDevices") {
		t.Errorf("a missing HostDevices should be named: %v", err)
	}
}
