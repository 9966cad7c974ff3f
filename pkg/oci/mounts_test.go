// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	crierrors "k8s.io/cri-api/pkg/errors"
)

func TestDefaultAndPodMounts(t *testing.T) {
	in := testInput()
	s := mustSpec(t, in)
	for dst, typ := range map[string]string{
		"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts", "/dev/mqueue": "mqueue",
		"/sys": "sysfs", "/sys/fs/cgroup": "cgroup",
		EtcHostname: "bind", EtcHosts: "bind", EtcResolvConf: "bind", DevShm: "bind",
	} {
		m := mountAt(s, dst)
		if m == nil || m.Type != typ || countMounts(s, dst) != 1 {
			t.Errorf("%s: want one %s mount, got %+v", dst, typ, m)
		}
	}
	if !hasOption(mountAt(s, "/sys"), "ro") || !hasOption(mountAt(s, "/sys/fs/cgroup"), "ro") {
		t.Error("/sys and the cgroup tree should be read-only")
	}
	for dst, src := range map[string]string{EtcHostname: in.HostnamePath, EtcHosts: in.HostsPath, EtcResolvConf: in.ResolvPath, DevShm: in.ShmPath} {
		m := mountAt(s, dst)
		if m.Source != src || !hasOption(m, "rw") || !hasOption(m, "rbind") {
			t.Errorf("%s: %+v", dst, m)
		}
	}
	if mountAt(s, TerminationMessageDst) != nil {
		t.Error("no termination message mount unless asked")
	}
}

func TestPodMountsReadonlyRootfs(t *testing.T) {
	in := testInput()
	secCtx(&in).ReadonlyRootfs = true
	s := mustSpec(t, in)
	if !s.Root.Readonly {
		t.Error("readonly_rootfs should make the root read-only")
	}
	for _, dst := range []string{EtcHostname, EtcHosts, EtcResolvConf} {
		if !hasOption(mountAt(s, dst), "ro") {
			t.Errorf("%s should be read-only with a read-only rootfs", dst)
		}
	}
	if !hasOption(mountAt(s, DevShm), "rw") {
		t.Error("/dev/shm stays writable")
	}
}

func TestShmMount(t *testing.T) {
	in := testInput()
	in.ShmPath, in.PodIPCNS = "", ""
	if m := mountAt(mustSpec(t, in), DevShm); m == nil || m.Source != "/dev/shm" || m.Type != "bind" {
		t.Errorf("host IPC: want the host's /dev/shm, got %+v", m)
	}
	in.PodIPCNS = "/proc/42/ns/ipc"
	if m := mountAt(mustSpec(t, in), DevShm); m == nil || m.Type != "tmpfs" {
		t.Errorf("private IPC without a pod shm: want a tmpfs, got %+v", m)
	}
}

func TestTerminationMessageMount(t *testing.T) {
	in := testInput()
	in.TerminationMessageHostPath = "/var/lib/podshim/ctr1/termination-log"
	m := mountAt(mustSpec(t, in), TerminationMessageDst)
	if m == nil || m.Source != in.TerminationMessageHostPath || !hasOption(m, "rw") {
		t.Errorf("termination message: %+v", m)
	}
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: TerminationMessageDst, HostPath: "/kubelet/termination"}}
	s := mustSpec(t, in)
	if m := mountAt(s, TerminationMessageDst); countMounts(s, TerminationMessageDst) != 1 || m.Source != "/kubelet/termination" {
		t.Errorf("the CRI's mount should win: %+v", s.Mounts)
	}
}

func TestCRIMountOverridesPodFiles(t *testing.T) {
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{
		{ContainerPath: "/etc/hosts", HostPath: "/var/lib/kubelet/pods/x/etc-hosts"},
		{ContainerPath: "/dev/shm/", HostPath: "/mnt/shm"},
		{ContainerPath: "/sys/fs/cgroup", HostPath: "/sys/fs/cgroup", Readonly: true},
	}
	s := mustSpec(t, in)
	for dst, src := range map[string]string{EtcHosts: "/var/lib/kubelet/pods/x/etc-hosts", DevShm: "/mnt/shm", "/sys/fs/cgroup": "/sys/fs/cgroup"} {
		if countMounts(s, dst) != 1 || mountAt(s, dst).Source != src {
			t.Errorf("%s: want only the CRI mount from %s: %+v", dst, src, s.Mounts)
		}
	}
	if mountAt(s, EtcResolvConf) == nil {
		t.Error("the other pod files stay")
	}
}

func TestCRIMountOfDevReplacesDevMounts(t *testing.T) {
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/dev", HostPath: "/dev"}}
	s := mustSpec(t, in)
	for _, gone := range []string{"/dev/pts", "/dev/mqueue"} {
		if mountAt(s, gone) != nil {
			t.Errorf("%s should go with a CRI /dev mount", gone)
		}
	}
	if m := mountAt(s, "/dev"); countMounts(s, "/dev") != 1 || m.Type != "bind" {
		t.Errorf("/dev: %+v", s.Mounts)
	}
}

func TestCRIMountOptions(t *testing.T) {
	for _, c := range []struct {
		name     string
		mount    *runtimeapi.Mount
		features KernelFeatures
		want     []string
		rootfs   string
	}{
		{"private rw", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data"}, KernelFeatures{}, []string{"rbind", "rprivate", "rw"}, ""},
		{"readonly", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", Readonly: true}, KernelFeatures{}, []string{"rbind", "rprivate", "ro"}, ""},
		{"host to container", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}, KernelFeatures{}, []string{"rbind", "rslave", "rw"}, "rslave"},
		{"bidirectional", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL}, KernelFeatures{}, []string{"rbind", "rshared", "rw"}, "rshared"},
		{"recursive read-only", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", Readonly: true, RecursiveReadOnly: true}, KernelFeatures{RecursiveReadOnly: true}, []string{"rbind", "rprivate", "rro"}, ""},
		{"extra options", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", MountOptions: []string{"noexec", "nosuid"}}, KernelFeatures{}, []string{"rbind", "rprivate", "rw", "noexec", "nosuid"}, ""},
		{"selinux relabel ignored", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv/data", SelinuxRelabel: true}, KernelFeatures{}, []string{"rbind", "rprivate", "rw"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := testInput()
			in.Features = c.features
			in.Config.Mounts = []*runtimeapi.Mount{c.mount}
			s := mustSpec(t, in)
			m := mountAt(s, "/data")
			if m == nil || m.Source != "/srv/data" || m.Type != "bind" || !slices.Equal(m.Options, c.want) {
				t.Fatalf("mount %+v, want options %q", m, c.want)
			}
			if s.Linux.RootfsPropagation != c.rootfs {
				t.Errorf("rootfs propagation %q, want %q", s.Linux.RootfsPropagation, c.rootfs)
			}
		})
	}
}

func TestCRIMountErrors(t *testing.T) {
	for _, c := range []struct {
		name     string
		mount    *runtimeapi.Mount
		features KernelFeatures
		kind     error
		mention  string
	}{
		{"rro without kernel support", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", Readonly: true, RecursiveReadOnly: true}, KernelFeatures{}, ErrUnsupported, "/data"},
		{"rro without readonly", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", RecursiveReadOnly: true}, KernelFeatures{RecursiveReadOnly: true}, ErrInvalid, "readonly"},
		{"rro with propagation", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", Readonly: true, RecursiveReadOnly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}, KernelFeatures{RecursiveReadOnly: true}, ErrInvalid, "private"},
		{"relative destination", &runtimeapi.Mount{ContainerPath: "data", HostPath: "/srv"}, KernelFeatures{}, ErrInvalid, "data"},
		{"no host path", &runtimeapi.Mount{ContainerPath: "/data"}, KernelFeatures{}, ErrInvalid, "/data"},
		{"bad option", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", MountOptions: []string{"rw"}}, KernelFeatures{}, ErrInvalid, "rw"},
		{"id mappings", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", UidMappings: []*runtimeapi.IDMapping{{HostId: 1000, Length: 1}}}, KernelFeatures{IDMappedMounts: true}, ErrInvalid, "without a user namespace"},
		{"image without resolver", &runtimeapi.Mount{ContainerPath: "/data", Image: &runtimeapi.ImageSpec{Image: "sha256:1"}}, KernelFeatures{}, ErrUnsupported, "sha256:1"},
		{"image and host path", &runtimeapi.Mount{ContainerPath: "/data", HostPath: "/srv", Image: &runtimeapi.ImageSpec{Image: "sha256:1"}}, KernelFeatures{}, ErrInvalid, "/data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := testInput()
			in.Features = c.features
			in.Config.Mounts = []*runtimeapi.Mount{c.mount}
			wantErr(t, in, c.kind, c.mention)
		})
	}
	// The kubelet recognises an unsupported recursive read-only mount by
	// the CRI's error text.
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: "/srv", Readonly: true, RecursiveReadOnly: true}}
	if _, err := ContainerSpec(in); !errors.Is(err, crierrors.ErrRROUnsupported) {
		t.Errorf("want ErrRROUnsupported, got %v", err)
	}
}

func TestImageVolumeMount(t *testing.T) {
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/models", Readonly: true, Image: &runtimeapi.ImageSpec{Image: "sha256:1"}, ImageSubPath: "v1"}}
	in.ResolveImageMount = func(image *runtimeapi.ImageSpec, sub string) (string, error) {
		return "/var/lib/podshim/images/" + image.GetImage() + "/" + sub, nil
	}
	m := mountAt(mustSpec(t, in), "/models")
	if m == nil || m.Source != "/var/lib/podshim/images/sha256:1/v1" || !hasOption(m, "ro") {
		t.Errorf("image volume: %+v", m)
	}
	// A writable image volume is refused rather than quietly made read-only.
	in.Config.Mounts[0].Readonly = false
	if _, err := ContainerSpec(in); !errors.Is(err, ErrInvalid) {
		t.Errorf("a writable image volume: want ErrInvalid, got %v", err)
	}
}

// Once a pod has an image volume, the kubelet sets ImageSubPath on every
// mount with a subPath, a host path one too, whose HostPath already names
// the sub path: the host path is mounted, the image sub path ignored.
func TestImageSubPathWithoutImageIgnored(t *testing.T) {
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/sub", HostPath: "/var/lib/kubelet/pods/u/volume-subpaths/scratch/app/1", ImageSubPath: "sub"}}
	in.ResolveImageMount = func(*runtimeapi.ImageSpec, string) (string, error) {
		t.Fatal("a host path mount resolved as an image volume")
		return "", nil
	}
	m := mountAt(mustSpec(t, in), "/sub")
	if m == nil || m.Source != "/var/lib/kubelet/pods/u/volume-subpaths/scratch/app/1" || !hasOption(m, "rw") {
		t.Errorf("host path mount with an image sub path: %+v", m)
	}
}

func TestMountsSortedByDepth(t *testing.T) {
	in := testInput()
	in.Config.Mounts = []*runtimeapi.Mount{
		{ContainerPath: "/data/a/b", HostPath: "/h/3"},
		{ContainerPath: "/data", HostPath: "/h/1"},
		{ContainerPath: "/data/a", HostPath: "/h/2"},
	}
	s := mustSpec(t, in)
	pos := map[string]int{}
	for i, m := range s.Mounts {
		pos[m.Destination] = i
	}
	if !(pos["/data"] < pos["/data/a"] && pos["/data/a"] < pos["/data/a/b"]) {
		t.Errorf("parents must come before children: %v", pos)
	}
	if pos["/proc"] > pos["/data"] || pos["/sys/fs/cgroup"] > pos["/data"] {
		t.Errorf("the default mounts come first: %v", pos)
	}
}

func TestImageVolumes(t *testing.T) {
	in := testInput()
	in.Image = ocispec.ImageConfig{Volumes: map[string]struct{}{"/var/lib/db": {}, "/cache/": {}, "/data": {}}}
	in.Config.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: "/srv"}}
	if got, want := ImageVolumes(in), []string{"/cache", "/var/lib/db"}; !slices.Equal(got, want) {
		t.Errorf("image volumes %q, want %q", got, want)
	}
}
