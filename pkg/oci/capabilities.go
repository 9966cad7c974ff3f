// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultCapabilities are the capabilities a container gets unless its
// config says otherwise: the set Docker and containerd grant.
func DefaultCapabilities() []string {
	return []string{
		"CAP_CHOWN",
		"CAP_DAC_OVERRIDE",
		"CAP_FSETID",
		"CAP_FOWNER",
		"CAP_MKNOD",
		"CAP_NET_RAW",
		"CAP_SETGID",
		"CAP_SETUID",
		"CAP_SETFCAP",
		"CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE",
		"CAP_SYS_CHROOT",
		"CAP_KILL",
		"CAP_AUDIT_WRITE",
	}
}

// KnownCapabilities are every capability of Linux 6.x, in number order.
// runc skips, with a warning, those the running kernel lacks.
func KnownCapabilities() []string {
	return []string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
		"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
		"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
		"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
		"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
		"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
		"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
		"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
		"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
		"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE",
	}
}

// capName normalises a CRI capability name ("net_admin", "CAP_NET_ADMIN")
// to the OCI form ("CAP_NET_ADMIN").
func capName(name string) (string, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "" {
		return "", invalidf("empty capability name")
	}
	for _, c := range n {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return "", invalidf("capability %q is not a capability name", name)
		}
	}
	if !strings.HasPrefix(n, "CAP_") {
		n = "CAP_" + n
	}
	return n, nil
}

// withCapabilities computes the bounding, effective and permitted sets:
// the defaults, or every capability when "ALL" is added, or none when
// "ALL" is dropped; then the single additions, then the single drops, so
// add ALL + drop CHOWN is everything but CHOWN and drop ALL + add
// NET_BIND_SERVICE is only that one. Ambient capabilities (per the CRI)
// join every set, ambient and inheritable included; inheritable holds
// nothing else. Privileged containers get every capability.
func withCapabilities(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	all := in.Features.Capabilities
	if all == nil {
		all = KnownCapabilities()
	}
	if sc.GetPrivileged() {
		set := slices.Clone(all)
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: set, Effective: slices.Clone(set), Permitted: slices.Clone(set)}
		return nil
	}
	c := sc.GetCapabilities()
	set := DefaultCapabilities()
	if containsFold(c.GetAddCapabilities(), "ALL") {
		set = slices.Clone(all)
	}
	if containsFold(c.GetDropCapabilities(), "ALL") {
		set = nil
	}
	var ambient, drops []string
	for _, list := range []struct {
		names []string
		into  *[]string
	}{
		{c.GetAddCapabilities(), &set},
		{c.GetAddAmbientCapabilities(), &ambient},
		{c.GetDropCapabilities(), &drops},
	} {
		for _, name := range list.names {
			if strings.EqualFold(name, "ALL") {
				continue
			}
			n, err := capName(name)
			if err != nil {
				return err
			}
			if !slices.Contains(*list.into, n) {
				*list.into = append(*list.into, n)
			}
		}
	}
	for _, n := range ambient {
		if !slices.Contains(set, n) {
			set = append(set, n)
		}
	}
	notDropped := func(caps []string) []string {
		return slices.DeleteFunc(caps, func(n string) bool { return slices.Contains(drops, n) })
	}
	set = notDropped(set)
	ambient = notDropped(ambient)
	s.Process.Capabilities = &specs.LinuxCapabilities{
		Bounding:    set,
		Effective:   slices.Clone(set),
		Permitted:   slices.Clone(set),
		Inheritable: ambient,
		Ambient:     slices.Clone(ambient),
	}
	return nil
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(e string) bool { return strings.EqualFold(strings.TrimSpace(e), s) })
}
