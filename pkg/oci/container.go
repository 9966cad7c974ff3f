// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerInput is everything the mapping of one CRI container needs. The
// caller gathers it (reading files, statting devices, looking at the
// kernel); ContainerSpec itself touches nothing outside its arguments.
type ContainerInput struct {
	// ID is the container's ID, SandboxID the ID of its pod.
	ID, SandboxID string
	Config        *runtimeapi.ContainerConfig
	Sandbox       *runtimeapi.PodSandboxConfig
	// Image is the config of the container's image (Entrypoint, Cmd, Env,
	// WorkingDir, User, StopSignal, Volumes...).
	Image ocispec.ImageConfig
	// RootfsPath is the container's mounted root filesystem.
	RootfsPath string
	// Passwd and Group hold the image's /etc/passwd and /etc/group (nil
	// when absent), read safely from the rootfs by the caller.
	Passwd, Group []byte

	// The pod's shared namespaces, as /proc/<pause pid>/ns/<type> paths; ""
	// for a namespace the pod shares with the host.
	PodNetNS, PodIPCNS, PodUTSNS, PodPIDNS string
	// PodUserNS is the pod's user namespace, /proc/<pause pid>/ns/user,
	// for a pod that has its own (hostUsers: false); UIDMappings and
	// GIDMappings are its mappings. The container joins it, and its bind
	// mounts are idmapped with the same mappings, so host root's files
	// belong to the pod's root.
	PodUserNS                string
	UIDMappings, GIDMappings []specs.LinuxIDMapping
	// TargetPIDNS is the PID namespace of the container a TARGET-mode
	// container joins (an ephemeral debug container, `kubectl debug
	// --target`), as /proc/<its pid>/ns/pid; the caller resolves it.
	TargetPIDNS string

	// The pod's files, bind-mounted into every container unless a CRI
	// mount targets the same path. An empty path is not mounted, except
	// ShmPath: "" means the pod uses the host's IPC namespace and so the
	// host's /dev/shm (when PodIPCNS is set too, the container gets a
	// private tmpfs instead).
	HostnamePath, HostsPath, ResolvPath, ShmPath string
	// TerminationMessageHostPath, when set, is a file the caller created;
	// it is mounted at /dev/termination-log unless a CRI mount targets
	// that path. The kubelet mounts its own termination-message file as a
	// CRI mount, so with the kubelet this stays empty.
	TerminationMessageHostPath string

	// Nofile is the RLIMIT_NOFILE to set; 0 leaves the inherited one.
	Nofile uint64

	// CgroupsPath is put as is in Linux.CgroupsPath.
	CgroupsPath string
	// OOMScoreAdjMin is the lowest oom_score_adj the container may get:
	// lower values are raised to it (the daemon cannot lower its
	// children's score below its own without CAP_SYS_RESOURCE).
	OOMScoreAdjMin int
	// Features is what the caller detected on this node.
	Features KernelFeatures

	// SeccompProfileRoot is the base of Localhost seccomp profiles given
	// as relative paths; absolute paths are used as they are.
	SeccompProfileRoot string
	// ReadProfile reads a Localhost seccomp profile.
	ReadProfile func(path string) ([]byte, error)
	// AppArmorDefaultProfile is the name of the AppArmor profile the
	// runtime applies for RuntimeDefault (and when nothing is asked),
	// loaded into the kernel by the caller. Empty: no default profile, so
	// RuntimeDefault confines nothing.
	AppArmorDefaultProfile string

	// HostDevices resolves a host device path (a char or block device, or
	// a directory of them) to device entries whose Path is the host path.
	HostDevices func(path string) ([]specs.LinuxDevice, error)
	// PrivilegedDevices lists every host device, for privileged
	// containers (as containerd does: the device nodes below /dev, without
	// pts, shm, mqueue, console and FIFOs). Nil gives a privileged container no host device nodes
	// (the device cgroup still allows all).
	PrivilegedDevices func() ([]specs.LinuxDevice, error)
	// ResolveImageMount returns the host directory holding the read-only
	// content of an image volume (a CRI mount with an image and no host
	// path), with subPath applied. Nil: image volumes are unsupported.
	ResolveImageMount func(image *runtimeapi.ImageSpec, subPath string) (string, error)
	// ImageVolumeDirs maps each VOLUME of the image (see ImageVolumes) to
	// the host directory backing it for this container; they are bind
	// mounted read-write, like the CRI mounts.
	ImageVolumeDirs map[string]string
}

// KernelFeatures says what this node's kernel and runtime can do.
type KernelFeatures struct {
	// AppArmor and SELinux: the LSM is enabled.
	AppArmor, SELinux bool
	// RecursiveReadOnly: mount_setattr(2) with MOUNT_ATTR_RDONLY, so
	// runc's "rro" mount option works (Linux 5.12).
	RecursiveReadOnly bool
	// IDMappedMounts: bind mounts with UID/GID mappings.
	IDMappedMounts bool
	// CgroupV2: the unified hierarchy; unprivileged containers then get
	// their own cgroup namespace.
	CgroupV2 bool
	// SwapAccounting: the memory controller limits swap, so memory limits
	// also cap swap (memory+swap = memory) unless the CRI sets a swap limit.
	SwapAccounting bool
	// Hugetlb: the hugetlb controller is there; without it hugepage limits
	// are skipped (the kubelet sends them for every page size it knows).
	Hugetlb bool
	// Capabilities are the capabilities runc may hand out here (those of
	// the daemon); nil means every capability podshim knows.
	Capabilities []string
}

// Annotations podshim puts on every container spec, as containerd does,
// so tools reading OCI state (and NRI plugins) know which pod a container
// belongs to.
const (
	AnnotationContainerType    = "io.kubernetes.cri.container-type"
	AnnotationSandboxID        = "io.kubernetes.cri.sandbox-id"
	AnnotationContainerName    = "io.kubernetes.cri.container-name"
	AnnotationImageName        = "io.kubernetes.cri.image-name"
	AnnotationSandboxName      = "io.kubernetes.cri.sandbox-name"
	AnnotationSandboxNamespace = "io.kubernetes.cri.sandbox-namespace"
	AnnotationSandboxUID       = "io.kubernetes.cri.sandbox-uid"
	ContainerTypeContainer     = "container"
)

// specOpt is one step of the mapping; the steps run in order on one spec.
type specOpt func(s *specs.Spec, in *ContainerInput) error

// ContainerSpec maps a CRI container to the OCI runtime spec runc runs.
// Errors wrap ErrInvalid for a bad request and ErrUnsupported for one this
// node cannot honour.
func ContainerSpec(in ContainerInput) (*specs.Spec, error) {
	if in.Config == nil {
		return nil, invalidf("no container config")
	}
	sc := in.Config.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() && !in.Sandbox.GetLinux().GetSecurityContext().GetPrivileged() {
		return nil, invalidf("privileged container %q in a pod that is not privileged", in.Config.GetMetadata().GetName())
	}
	s := &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: in.RootfsPath, Readonly: sc.GetReadonlyRootfs()},
		Process: &specs.Process{
			Terminal:        in.Config.GetTty(),
			NoNewPrivileges: sc.GetNoNewPrivs(),
		},
		Linux: &specs.Linux{
			CgroupsPath: in.CgroupsPath,
			Resources:   &specs.LinuxResources{},
		},
	}
	// Order matters where a step reads what an earlier one wrote: seccomp
	// filters its rules on the capabilities.
	for _, step := range []specOpt{
		withProcessArgs,
		withEnv,
		withCwd,
		withRlimits,
		withUser,
		withNamespaces,
		withMounts,
		withDevices,
		withCapabilities,
		withMaskedPaths,
		withSeccomp,
		withAppArmor,
		withSELinux,
		withResources,
		withAnnotations,
	} {
		if err := step(s, &in); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// withMaskedPaths takes the CRI's masked and read-only paths as they are:
// the kubelet sends the defaults itself, and empty lists for an Unmasked
// proc mount (proto3 cannot tell an empty list from none). Privileged
// containers see everything.
func withMaskedPaths(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() {
		return nil
	}
	s.Linux.MaskedPaths = append([]string(nil), sc.GetMaskedPaths()...)
	s.Linux.ReadonlyPaths = append([]string(nil), sc.GetReadonlyPaths()...)
	return nil
}

// runcAnnotationPrefixes are annotations runc acts on (systemd unit
// properties, CRIU configuration): a CRI client must not reach them
// through container annotations.
var runcAnnotationPrefixes = []string{"org.systemd.property.", "org.criu."}

func withAnnotations(s *specs.Spec, in *ContainerInput) error {
	a := map[string]string{}
	for k, v := range in.Config.GetAnnotations() {
		if hasAnyPrefix(k, runcAnnotationPrefixes) {
			continue
		}
		a[k] = v
	}
	image := in.Config.GetImage().GetUserSpecifiedImage()
	if image == "" {
		image = in.Config.GetImage().GetImage()
	}
	meta := in.Sandbox.GetMetadata()
	a[AnnotationContainerType] = ContainerTypeContainer
	a[AnnotationSandboxID] = in.SandboxID
	a[AnnotationContainerName] = in.Config.GetMetadata().GetName()
	a[AnnotationImageName] = image
	a[AnnotationSandboxName] = meta.GetName()
	a[AnnotationSandboxNamespace] = meta.GetNamespace()
	a[AnnotationSandboxUID] = meta.GetUid()
	s.Annotations = a
	return nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
