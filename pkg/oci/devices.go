// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func devRule(typ string, major, minor int64) specs.LinuxDeviceCgroup {
	r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: "rwm", Major: &major}
	if minor >= 0 {
		r.Minor = &minor
	}
	return r
}

// defaultDeviceRules deny every device, then allow the ones every
// container needs (runc creates their nodes itself): null, zero, full,
// random, urandom, tty, console, ptmx and the pty slaves.
func defaultDeviceRules() []specs.LinuxDeviceCgroup {
	return []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		devRule("c", 1, 3),    // /dev/null
		devRule("c", 1, 5),    // /dev/zero
		devRule("c", 1, 7),    // /dev/full
		devRule("c", 1, 8),    // /dev/random
		devRule("c", 1, 9),    // /dev/urandom
		devRule("c", 5, 0),    // /dev/tty
		devRule("c", 5, 1),    // /dev/console
		devRule("c", 5, 2),    // /dev/ptmx
		devRule("c", 136, -1), // /dev/pts/*
	}
}

// withDevices adds the CRI's devices, each allowed in the device cgroup
// with the permissions asked for. A privileged container gets every host
// device too, and a device cgroup that allows everything.
func withDevices(s *specs.Spec, in *ContainerInput) error {
	privileged := in.Config.GetLinux().GetSecurityContext().GetPrivileged()
	rules := defaultDeviceRules()
	if privileged {
		rules = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	var devices []specs.LinuxDevice
	for _, d := range in.Config.GetDevices() {
		host, ctr, perms := d.GetHostPath(), d.GetContainerPath(), d.GetPermissions()
		if ctr == "" {
			ctr = host
		}
		if !path.IsAbs(host) || !path.IsAbs(ctr) {
			return invalidf("device %q -> %q: paths must be absolute", host, ctr)
		}
		host, ctr = path.Clean(host), path.Clean(ctr)
		if perms == "" {
			perms = "rwm"
		}
		if !validDevicePermissions(perms) {
			return invalidf("device %q: permissions %q are not a subset of \"rwm\"", host, perms)
		}
		if in.HostDevices == nil {
			return errors.New("oci: ContainerInput.HostDevices is nil but the container asks for devices")
		}
		found, err := in.HostDevices(host)
		if err != nil {
			return invalidf("device %q: %v", host, err)
		}
		if len(found) == 0 {
			return invalidf("device %q: no device there", host)
		}
		for _, dev := range found {
			// Place the device, or a directory's devices, under the
			// container path.
			rel := strings.TrimPrefix(dev.Path, host)
			if rel != "" && !strings.HasPrefix(rel, "/") {
				return invalidf("device %q: resolved to %q outside it", host, dev.Path)
			}
			dev.Path = ctr + rel
			devices = append(devices, dev)
			if !privileged {
				major, minor := dev.Major, dev.Minor
				rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: dev.Type, Major: &major, Minor: &minor, Access: perms})
			}
		}
	}
	if privileged && in.PrivilegedDevices != nil {
		all, err := in.PrivilegedDevices()
		if err != nil {
			return err
		}
		for _, dev := range all {
			if !containsDevicePath(devices, dev.Path) {
				devices = append(devices, dev)
			}
		}
	}
	s.Linux.Devices = devices
	s.Linux.Resources.Devices = rules
	return nil
}

func validDevicePermissions(p string) bool {
	if len(p) > 3 {
		return false
	}
	for i, c := range p {
		if !strings.ContainsRune("rwm", c) || strings.ContainsRune(p[i+1:], c) {
			return false
		}
	}
	return true
}

func containsDevicePath(devs []specs.LinuxDevice, p string) bool {
	for _, d := range devs {
		if d.Path == p {
			return true
		}
	}
	return false
}
