// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"archive/tar"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/images"
	"github.com/podshim/podshim/test/registry"
)

// An image's VOLUMEs become anonymous volumes of each container, as with
// containerd: a directory of the container's own mounted at each path,
// seeded with what the image has there (owner and mode kept), taking the
// container's writes instead of its writable layer, and removed with the
// container. A VOLUME under a CRI mount is left to that mount.
func TestImageVolumesAreAnonymousVolumes(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	base, err := images.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	img, err := images.WithLayer(base, []images.TarEntry{
		{Name: "data", Type: tar.TypeDir, Mode: 0o750, UID: 1234, GID: 4321},
		{Name: "data/seed", Mode: 0o640, UID: 1234, GID: 4321, Data: []byte("from the image\n")},
		{Name: "data/link", Type: tar.TypeSymlink, Linkname: "/etc/passwd"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Volumes = map[string]struct{}{"/data": {}, "/empty/": {}, "/host/sub": {}}
	if img, err = mutate.Config(img, cfg); err != nil {
		t.Fatal(err)
	}
	if err := reg.Push([]images.Entry{{Repo: "vol/image", Tags: []string{"1"}, Image: img}}); err != nil {
		t.Fatal(err)
	}

	e := newPodEnv(t, "")
	ref := reg.Addr + "/vol/image:1"
	if _, err := pull(t, e.d, ref, nil); err != nil {
		t.Fatal(err)
	}
	hostDir := t.TempDir()
	c := e.containerConfig("vols", "sh", "-c", `
cat /data/seed
stat -c 'seed %u:%g %a' /data/seed
stat -c 'data %u:%g %a' /data
readlink /data/link
grep -q ' /data ' /proc/mounts && echo data-is-a-mount
grep -q ' /empty ' /proc/mounts && test -z "$(ls -A /empty)" && echo empty-is-a-mount
grep -q ' /host/sub ' /proc/mounts || echo host-sub-left-to-the-cri-mount
echo written > /data/new
echo done`)
	c.Image = &runtimeapi.ImageSpec{Image: ref}
	c.Mounts = []*runtimeapi.Mount{{ContainerPath: "/host", HostPath: hostDir}}
	id := e.create(t, c)
	if _, err := e.d.rt.StartContainer(ctxT(t, 60e9), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	st := e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED)
	if st.ExitCode != 0 {
		t.Fatalf("container exited %d", st.ExitCode)
	}
	for _, want := range []string{"from the image", "seed 1234:4321 640", "data 1234:4321 750", "/etc/passwd",
		"data-is-a-mount", "empty-is-a-mount", "host-sub-left-to-the-cri-mount", "done"} {
		waitForLog(t, st.LogPath, want)
	}
	ctrDir := filepath.Join(e.d.dir, "root", "containers", id)
	if _, err := os.Stat(filepath.Join(ctrDir, "upper", "data", "new")); !os.IsNotExist(err) {
		t.Errorf("a write to the volume reached the writable layer: %v", err)
	}
	if ents, _ := os.ReadDir(hostDir); len(ents) != 0 {
		t.Errorf("the VOLUME under the CRI mount made %v in the host directory", ents)
	}
	if _, err := e.d.rt.RemoveContainer(ctxT(t, 60e9), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ctrDir); !os.IsNotExist(err) {
		t.Errorf("the container's volumes outlived it: %v", err)
	}
}
