// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
)

// Where the pod's files appear in every container.
const (
	EtcHostname           = "/etc/hostname"
	EtcHosts              = "/etc/hosts"
	EtcResolvConf         = "/etc/resolv.conf"
	DevShm                = "/dev/shm"
	TerminationMessageDst = "/dev/termination-log"
)

// defaultMounts are the kernel filesystems every container gets. /sys and
// the cgroup tree are read-only unless the container is privileged.
func defaultMounts(privileged bool) []specs.Mount {
	mode := "ro"
	if privileged {
		mode = "rw"
	}
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", mode}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", mode}},
	}
}

// withMounts builds the mount list: the default kernel filesystems, then
// the pod's files and the CRI mounts sorted by depth so that a parent is
// mounted before its children. A CRI mount replaces any default or pod
// mount with the same destination, and a CRI mount of /dev replaces every
// default mount below /dev.
func withMounts(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	var cri []specs.Mount
	targets := map[string]bool{}
	for _, m := range in.Config.GetMounts() {
		sm, propagation, err := criMount(m, in)
		if err != nil {
			return err
		}
		switch {
		case propagation == "rshared":
			s.Linux.RootfsPropagation = "rshared"
		case propagation == "rslave" && s.Linux.RootfsPropagation != "rshared":
			s.Linux.RootfsPropagation = "rslave"
		}
		cri = append(cri, sm)
		targets[sm.Destination] = true
	}

	var supplied []specs.Mount
	for _, m := range podMounts(in, sc.GetReadonlyRootfs()) {
		if !targets[m.Destination] {
			supplied = append(supplied, m)
		}
	}
	for dst, src := range in.ImageVolumeDirs {
		if !targets[dst] {
			// Copied from the image's layers: idmapped as the rootfs is.
			supplied = append(supplied, specs.Mount{Destination: dst, Type: "bind", Source: src,
				Options: []string{"rbind", "rprivate", "rw"}, UIDMappings: in.UIDMappings, GIDMappings: in.GIDMappings})
		}
	}
	// Map order is random; the depth sort below is stable, so make the
	// starting order fixed.
	sort.SliceStable(supplied, func(i, j int) bool { return supplied[i].Destination < supplied[j].Destination })
	supplied = append(supplied, cri...)
	sort.SliceStable(supplied, func(i, j int) bool {
		return depth(supplied[i].Destination) < depth(supplied[j].Destination)
	})

	var mounts []specs.Mount
	for _, m := range defaultMounts(sc.GetPrivileged()) {
		if targets[m.Destination] || (targets["/dev"] && strings.HasPrefix(m.Destination, "/dev/")) {
			continue
		}
		mounts = append(mounts, m)
	}
	s.Mounts = append(mounts, supplied...)
	return nil
}

func depth(p string) int { return strings.Count(path.Clean(p), "/") }

// podMounts are the pod's files every container shares. They are
// read-only when the container's root filesystem is.
func podMounts(in *ContainerInput, readonly bool) []specs.Mount {
	mode := "rw"
	if readonly {
		mode = "ro"
	}
	var out []specs.Mount
	bind := func(dst, src, mode string) {
		if src != "" {
			out = append(out, specs.Mount{Destination: dst, Type: "bind", Source: src,
				Options: []string{"rbind", "rprivate", "nosuid", "nodev", "noexec", mode}})
		}
	}
	bind(EtcHostname, in.HostnamePath, mode)
	bind(EtcHosts, in.HostsPath, mode)
	bind(EtcResolvConf, in.ResolvPath, mode)
	switch {
	case in.ShmPath != "":
		bind(DevShm, in.ShmPath, "rw")
	case in.PodIPCNS == "":
		// The pod shares the host's IPC namespace, and so its /dev/shm.
		out = append(out, specs.Mount{Destination: DevShm, Type: "bind", Source: DevShm,
			Options: []string{"rbind", "rprivate", "rw"}})
	default:
		// A private IPC namespace the caller gave no shm for: a private
		// tmpfs of the usual size.
		out = append(out, specs.Mount{Destination: DevShm, Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}})
	}
	bind(TerminationMessageDst, in.TerminationMessageHostPath, "rw")
	return out
}

// allowedMountOptions are the CRI mount_options podshim passes on: flags
// of the bind mount itself, nothing that changes its source, propagation
// or writability.
var allowedMountOptions = []string{
	"nosuid", "suid", "nodev", "dev", "noexec", "exec",
	"noatime", "atime", "relatime", "norelatime", "strictatime", "nostrictatime",
	"nodiratime", "diratime", "nosymfollow", "symfollow",
}

// criMount maps one CRI mount to a bind mount, and tells the rootfs
// propagation it needs ("rshared", "rslave" or "").
func criMount(m *runtimeapi.Mount, in *ContainerInput) (specs.Mount, string, error) {
	dst := m.GetContainerPath()
	if !path.IsAbs(dst) {
		return specs.Mount{}, "", invalidf("mount destination %q is not an absolute path", dst)
	}
	dst = path.Clean(dst)
	uids, gids, err := mountIDMappings(m, in)
	if err != nil {
		return specs.Mount{}, "", err
	}

	src, readonly := m.GetHostPath(), m.GetReadonly()
	if image := m.GetImage(); image.GetImage() != "" {
		if src != "" {
			return specs.Mount{}, "", invalidf("mount %q has both a host path and an image", dst)
		}
		if in.ResolveImageMount == nil {
			return specs.Mount{}, "", unsupportedf("image volume %q at %q", image.GetImage(), dst)
		}
		// An image volume is read-only: the CRI says a runtime should
		// refuse one asked to be writable rather than quietly differ.
		if !readonly {
			return specs.Mount{}, "", invalidf("image volume %q at %q must be read-only", image.GetImage(), dst)
		}
		var err error
		if src, err = in.ResolveImageMount(image, m.GetImageSubPath()); err != nil {
			return specs.Mount{}, "", fmt.Errorf("%w: image volume %q at %q: %w", crierrors.ErrImageVolumeMountFailed, image.GetImage(), dst, err)
		}
	} else {
		// An image sub path without an image is ignored, as containerd
		// does: once a pod has an image volume, the kubelet copies every
		// mount's subPath there, image or not, after resolving the sub path
		// of a host path mount into HostPath itself.
		if !path.IsAbs(src) {
			return specs.Mount{}, "", invalidf("mount %q: host path %q is not an absolute path", dst, src)
		}
	}

	opts := []string{"rbind"}
	var propagation string
	switch p := m.GetPropagation(); p {
	case runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		opts = append(opts, "rprivate")
	case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		propagation = "rslave"
		opts = append(opts, propagation)
	case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		propagation = "rshared"
		opts = append(opts, propagation)
	default:
		return specs.Mount{}, "", invalidf("mount %q: unknown propagation %v", dst, p)
	}

	switch {
	case m.GetRecursiveReadOnly() && !readonly:
		return specs.Mount{}, "", invalidf("mount %q: recursive read-only needs readonly too", dst)
	case m.GetRecursiveReadOnly() && m.GetPropagation() != runtimeapi.MountPropagation_PROPAGATION_PRIVATE:
		return specs.Mount{}, "", invalidf("mount %q: recursive read-only needs private propagation, not %v", dst, m.GetPropagation())
	case m.GetRecursiveReadOnly() && !in.Features.RecursiveReadOnly:
		return specs.Mount{}, "", fmt.Errorf("%w: %w: mount %q: this kernel or the pod's runtime handler cannot make mounts recursively read-only", ErrUnsupported, crierrors.ErrRROUnsupported, dst)
	case m.GetRecursiveReadOnly():
		opts = append(opts, "rro")
	case readonly:
		opts = append(opts, "ro")
	default:
		opts = append(opts, "rw")
	}

	for _, o := range m.GetMountOptions() {
		if !slices.Contains(allowedMountOptions, o) {
			return specs.Mount{}, "", invalidf("mount %q: mount option %q is not allowed", dst, o)
		}
		opts = append(opts, o)
	}
	// selinux_relabel is the caller's business: relabelling changes the
	// host's files, and needs SELinux at all.
	return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: opts, UIDMappings: uids, GIDMappings: gids}, propagation, nil
}

// mountIDMappings are the ID mappings of a CRI mount: its own, or in a
// user-namespaced pod the pod's, so that on the volume host root's files
// belong to the pod's root and what the pod's root writes is root's on
// disk, as the kubelet expects of a runtime. runc makes the idmapped mount;
// mounts below the volume keep theirs (no "ridmap": /proc, say, below a
// host path could not be idmapped).
func mountIDMappings(m *runtimeapi.Mount, in *ContainerInput) (uids, gids []specs.LinuxIDMapping, err error) {
	dst := m.GetContainerPath()
	own := len(m.GetUidMappings()) > 0 || len(m.GetGidMappings()) > 0
	if !own && in.PodUserNS == "" {
		return nil, nil, nil
	}
	if !in.Features.IDMappedMounts {
		return nil, nil, unsupportedf("mount %q needs an idmapped mount, which this node cannot make", dst)
	}
	if !own {
		return in.UIDMappings, in.GIDMappings, nil
	}
	if in.PodUserNS == "" {
		return nil, nil, invalidf("mount %q asks for ID mappings in a pod without a user namespace", dst)
	}
	if len(m.GetUidMappings()) == 0 || len(m.GetGidMappings()) == 0 {
		return nil, nil, invalidf("mount %q has UID mappings or GID mappings, not both", dst)
	}
	conv := func(in []*runtimeapi.IDMapping) []specs.LinuxIDMapping {
		out := make([]specs.LinuxIDMapping, 0, len(in))
		for _, r := range in {
			out = append(out, specs.LinuxIDMapping{ContainerID: r.GetContainerId(), HostID: r.GetHostId(), Size: r.GetLength()})
		}
		return out
	}
	return conv(m.GetUidMappings()), conv(m.GetGidMappings()), nil
}

// ImageVolumes returns the image's declared volumes (VOLUME) that no CRI
// mount covers, cleaned and sorted: each becomes an anonymous volume of the
// container, as with containerd. A volume at or below a CRI mount's path is
// left out: the CRI mount is what the kubelet asked for there, and backing
// the volume would create its mount point inside the kubelet's volume.
func ImageVolumes(in ContainerInput) []string {
	var criPaths []string
	for _, m := range in.Config.GetMounts() {
		criPaths = append(criPaths, path.Clean(m.GetContainerPath()))
	}
	covered := func(v string) bool {
		for _, p := range criPaths {
			if v == p || p == "/" || strings.HasPrefix(v, p+"/") {
				return true
			}
		}
		return false
	}
	var out []string
	for v := range in.Image.Volumes {
		v = path.Join("/", v)
		if v != "/" && !covered(v) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
