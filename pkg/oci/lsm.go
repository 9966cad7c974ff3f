// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// withAppArmor applies the container's AppArmor profile. Privileged
// containers and Unconfined get none. On a kernel without AppArmor any
// other request is refused, as containerd does (the kubelet refuses such
// pods before asking). With AppArmor, RuntimeDefault and nothing asked
// both mean the runtime's default profile, if it has one; Localhost names
// a profile loaded on the node.
func withAppArmor(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() {
		return nil
	}
	sp := sc.GetApparmor()
	if sp == nil {
		var err error
		if sp, err = legacyProfile("apparmor", sc.GetApparmorProfile()); err != nil {
			return err
		}
	}
	if sp != nil && sp.GetProfileType() != runtimeapi.SecurityProfile_Localhost && sp.GetLocalhostRef() != "" {
		return invalidf("apparmor: localhost_ref %q is only for Localhost profiles", sp.GetLocalhostRef())
	}
	if !in.Features.AppArmor {
		if sp == nil || sp.GetProfileType() == runtimeapi.SecurityProfile_Unconfined {
			return nil
		}
		name := "runtime/default"
		if sp.GetProfileType() == runtimeapi.SecurityProfile_Localhost {
			name = profileLocalhost + strings.TrimPrefix(sp.GetLocalhostRef(), profileLocalhost)
		}
		return unsupportedf("AppArmor profile %q: this node's kernel has no AppArmor", name)
	}
	switch sp.GetProfileType() {
	case runtimeapi.SecurityProfile_RuntimeDefault: // also sp == nil
		s.Process.ApparmorProfile = in.AppArmorDefaultProfile
	case runtimeapi.SecurityProfile_Unconfined:
	case runtimeapi.SecurityProfile_Localhost:
		name := strings.TrimPrefix(sp.GetLocalhostRef(), profileLocalhost)
		if name == "" {
			return invalidf("apparmor: a Localhost profile needs localhost_ref")
		}
		s.Process.ApparmorProfile = name
	default:
		return invalidf("apparmor: unknown profile type %v", sp.GetProfileType())
	}
	return nil
}

// Defaults for the parts of an SELinux label the CRI leaves out: the
// targeted policy's container domain.
const (
	selinuxUser     = "system_u"
	selinuxRole     = "system_r"
	selinuxType     = "container_t"
	selinuxFileRole = "object_r"
	selinuxFileType = "container_file_t"
	selinuxLevel    = "s0"
)

// withSELinux labels the process and its mounts from the container's
// SELinux options, else the pod's. Without SELinux on the node the options
// are ignored, as containerd and CRI-O do (go-selinux answers "" there);
// unprivileged pods may carry them for nodes that have it. podshim does not
// allocate MCS levels: a pod wanting isolation from others names its level.
func withSELinux(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	if !in.Features.SELinux || sc.GetPrivileged() {
		return nil
	}
	o := sc.GetSelinuxOptions()
	if isEmptySELinux(o) {
		o = in.Sandbox.GetLinux().GetSecurityContext().GetSelinuxOptions()
	}
	if isEmptySELinux(o) {
		return nil
	}
	for _, part := range []string{o.GetUser(), o.GetRole(), o.GetType()} {
		if strings.Contains(part, ":") {
			return invalidf("SELinux option %q has a colon", part)
		}
	}
	or := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	user, level := or(o.GetUser(), selinuxUser), or(o.GetLevel(), selinuxLevel)
	s.Process.SelinuxLabel = strings.Join([]string{user, or(o.GetRole(), selinuxRole), or(o.GetType(), selinuxType), level}, ":")
	s.Linux.MountLabel = strings.Join([]string{user, selinuxFileRole, selinuxFileType, level}, ":")
	return nil
}

func isEmptySELinux(o *runtimeapi.SELinuxOption) bool {
	return o.GetUser() == "" && o.GetRole() == "" && o.GetType() == "" && o.GetLevel() == ""
}
