// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The values of the deprecated seccomp_profile_path and apparmor_profile
// strings.
const (
	profileRuntimeDefault = "runtime/default"
	profileDockerDefault  = "docker/default"
	profileUnconfined     = "unconfined"
	profileLocalhost      = "localhost/"
)

// legacyProfile turns a deprecated profile string into a SecurityProfile;
// "" gives nil (nothing asked).
func legacyProfile(kind, p string) (*runtimeapi.SecurityProfile, error) {
	switch {
	case p == "":
		return nil, nil
	case p == profileRuntimeDefault || p == profileDockerDefault:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_RuntimeDefault}, nil
	case p == profileUnconfined:
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Unconfined}, nil
	case strings.HasPrefix(p, profileLocalhost) && len(p) > len(profileLocalhost):
		return &runtimeapi.SecurityProfile{ProfileType: runtimeapi.SecurityProfile_Localhost, LocalhostRef: strings.TrimPrefix(p, profileLocalhost)}, nil
	default:
		return nil, invalidf("%s profile %q: want runtime/default, unconfined or localhost/<name>", kind, p)
	}
}

// withSeccomp applies the container's seccomp profile. Nothing asked means
// unconfined, as in containerd: the kubelet always says what it wants.
// RuntimeDefault is Docker's default profile, filtered for the
// container's capabilities (so CAP_SYS_ADMIN brings mount(2) back).
// Privileged containers are never filtered.
func withSeccomp(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() {
		return nil
	}
	sp := sc.GetSeccomp()
	if sp == nil {
		var err error
		if sp, err = legacyProfile("seccomp", sc.GetSeccompProfilePath()); err != nil {
			return err
		}
	}
	if sp == nil {
		return nil
	}
	if sp.GetProfileType() != runtimeapi.SecurityProfile_Localhost && sp.GetLocalhostRef() != "" {
		return invalidf("seccomp: localhost_ref %q is only for Localhost profiles", sp.GetLocalhostRef())
	}
	switch sp.GetProfileType() {
	case runtimeapi.SecurityProfile_Unconfined:
		return nil
	case runtimeapi.SecurityProfile_RuntimeDefault:
		p, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return fmt.Errorf("oci: the default seccomp profile: %w", err)
		}
		s.Linux.Seccomp = p
		return nil
	case runtimeapi.SecurityProfile_Localhost:
		p, err := localhostSeccomp(s, in, sp.GetLocalhostRef())
		if err != nil {
			return err
		}
		s.Linux.Seccomp = p
		return nil
	default:
		return invalidf("seccomp: unknown profile type %v", sp.GetProfileType())
	}
}

// localhostSeccomp reads a profile from the node. Both Docker's format
// (with includes/excludes rules) and the plain OCI one are understood.
func localhostSeccomp(s *specs.Spec, in *ContainerInput, ref string) (*specs.LinuxSeccomp, error) {
	ref = strings.TrimPrefix(ref, profileLocalhost)
	if ref == "" {
		return nil, invalidf("seccomp: a Localhost profile needs localhost_ref")
	}
	p := ref
	if !filepath.IsAbs(p) {
		if in.SeccompProfileRoot == "" {
			return nil, invalidf("seccomp profile %q is relative and no profile root is configured", ref)
		}
		p = filepath.Join(in.SeccompProfileRoot, p)
		if rel, err := filepath.Rel(in.SeccompProfileRoot, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, invalidf("seccomp profile %q leaves the profile root", ref)
		}
	}
	if in.ReadProfile == nil {
		return nil, errors.New("oci: ContainerInput.ReadProfile is nil but the container asks for a Localhost seccomp profile")
	}
	body, err := in.ReadProfile(p)
	if err != nil {
		return nil, invalidf("seccomp profile %q: %v", p, err)
	}
	prof, err := seccomp.LoadProfile(string(body), s)
	if err != nil {
		return nil, invalidf("seccomp profile %q: %v", p, err)
	}
	if prof == nil || prof.DefaultAction == "" {
		return nil, invalidf("seccomp profile %q has no defaultAction", p)
	}
	return prof, nil
}
