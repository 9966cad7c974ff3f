// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootfsStacksLayersUnderAWritableLayer(t *testing.T) {
	requireRoot(t)
	reg := newTestRegistry(t)
	img := buildImage(t, imageOpts{format: "oci"},
		gzipLayer(t, file("etc/base", "base"), file("etc/shadowed", "old")),
		gzipLayer(t, file("etc/shadowed", "new"), file("etc/top", "top")))
	ref := reg.push("app", "1", img)
	s := newTestStore(t, Options{ContainersDir: filepath.Join(t.TempDir(), "containers")})
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := s.ContainersUsage()

	root, err := s.CreateRootfs("c1", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"etc/base": "base", "etc/shadowed": "new", "etc/top": "top"} {
		if got, _ := os.ReadFile(filepath.Join(root, name)); string(got) != want {
			t.Errorf("%s = %q, want %q: the upper layer must win", name, got, want)
		}
	}
	// Writes land in the container's own layer, never in the image's.
	if err := os.WriteFile(filepath.Join(root, "etc", "base"), []byte(strings.Repeat("x", 1<<16)), 0o644); err != nil {
		t.Fatal(err)
	}
	dirs, _ := s.LayerDirs(ref)
	if got, _ := os.ReadFile(filepath.Join(dirs[0], "etc", "base")); string(got) != "base" {
		t.Fatal("a container write changed the image's layer")
	}
	if u, err := s.RootfsUsage("c1"); err != nil || u.UsedBytes < 1<<16 {
		t.Fatalf("writable layer usage %+v %v", u, err)
	}
	if after, _ := s.ContainersUsage(); after.UsedBytes <= before.UsedBytes {
		t.Fatalf("containers usage did not grow: %+v -> %+v", before, after)
	}
	if _, err := s.CreateRootfs("c1", ref, nil); err == nil {
		t.Fatal("a second rootfs for one container must be refused")
	}

	// Removing the image keeps the layers the container stands on.
	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "etc", "top")); string(got) != "top" {
		t.Fatal("removing the image broke a container's rootfs")
	}
	if err := s.RemoveRootfs("c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveRootfs("c1"); err != nil {
		t.Fatalf("RemoveRootfs is idempotent: %v", err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("layer %s outlived its image and its last container", d)
		}
	}
	if _, err := os.Stat(filepath.Join(s.opts.ContainersDir, "c1")); !os.IsNotExist(err) {
		t.Error("the container's dir was left")
	}
}

func TestRootfsOfAnUnknownImageLeavesNothing(t *testing.T) {
	s := newTestStore(t, Options{ContainersDir: filepath.Join(t.TempDir(), "containers")})
	if _, err := s.CreateRootfs("c2", "example.test/none:1", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if entries, _ := os.ReadDir(s.opts.ContainersDir); len(entries) != 0 {
		t.Fatalf("left %v", entries)
	}
	if _, err := s.CreateRootfs("../escape", "x", nil); err == nil {
		t.Fatal("a container id that is not a plain name must be refused")
	}
}
