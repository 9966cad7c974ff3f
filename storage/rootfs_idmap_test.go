// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/podshim/podshim/pkg/idmap"
)

// idmapFixture is a store with a one-layer image pulled, and a user
// namespace whose root is host 300000.
func idmapFixture(t *testing.T) (*Store, string, *idmap.Userns) {
	t.Helper()
	requireRoot(t)
	reg := newTestRegistry(t)
	ref := reg.push("app", "1", buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("etc/base", "base"))))
	s := newTestStore(t, Options{ContainersDir: filepath.Join(t.TempDir(), "containers")})
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	ns, err := idmap.Hold([]string{"cat"}, 300000, 65536)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	return s, ref, ns
}

// A user-namespaced container's rootfs: the image's root-owned files
// belong to the pod's root (host 300000 here), so do its writable layer and
// what it writes, and the image's layers are untouched on disk.
func TestIdmappedRootfsBelongsToThePodsRoot(t *testing.T) {
	s, ref, ns := idmapFixture(t)
	root, err := s.CreateRootfs("c1", ref, &IDMap{Userns: fmt.Sprintf("/proc/self/fd/%d", ns.Fd), RootUID: 300000, RootGID: 300000})
	if err != nil {
		t.Fatal(err)
	}
	owner := func(p string) (uint32, uint32) {
		t.Helper()
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Uid, st.Gid
	}
	for _, p := range []string{root, filepath.Join(root, "etc", "base")} {
		if u, g := owner(p); u != 300000 || g != 300000 {
			t.Errorf("%s is %d:%d, want the pod root's 300000:300000", p, u, g)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "base"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs, _ := s.LayerDirs(ref)
	if u, _ := owner(filepath.Join(dirs[0], "etc", "base")); u != 0 {
		t.Errorf("the image layer's file is now uid %d on disk, want 0", u)
	}
	if got, _ := os.ReadFile(filepath.Join(dirs[0], "etc", "base")); string(got) != "base" {
		t.Error("a write through the idmapped rootfs changed the image's layer")
	}
	if _, err := os.Stat(filepath.Join(s.rootfsDir("c1"), "l")); !os.IsNotExist(err) {
		t.Errorf("the idmapped layers' own mounts were left: %v", err)
	}
	// Mounted where the pod's root can reach it, not among the private
	// writable layers.
	if filepath.Dir(root) != s.opts.MountDir {
		t.Errorf("idmapped rootfs mounted at %s, want in %s", root, s.opts.MountDir)
	}
	if err := s.RemoveRootfs("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Errorf("RemoveRootfs left the mount point %s: %v", root, err)
	}
}

// A crash between idmapping the layers and releasing them leaves them
// mounted in the container's directory: removal must unmount them, never
// delete the image's files through them.
func TestRemoveRootfsUnmountsLeftoverIdmappedLayers(t *testing.T) {
	s, ref, ns := idmapFixture(t)
	root, err := s.CreateRootfs("c1", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	dirs, _ := s.LayerDirs(ref)
	if _, _, err := idmap.Layers(dirs, ns.Fd, filepath.Join(filepath.Dir(root), "l")); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRootfs("c1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dirs[0], "etc", "base")); string(got) != "base" {
		t.Fatal("removing the rootfs deleted the image's files through a leftover idmapped layer")
	}
}
