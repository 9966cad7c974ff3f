// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestImageVolumesAreReadOnlyAndGoWithTheRootfs(t *testing.T) {
	requireRoot(t)
	reg := newTestRegistry(t)
	one := buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("data/one", "1")))
	two := buildImage(t, imageOpts{format: "oci"},
		gzipLayer(t, file("data/a", "a")), gzipLayer(t, file("data/b", "b")))
	refOne, refTwo := reg.push("one", "1", one), reg.push("two", "1", two)
	s := newTestStore(t, Options{ContainersDir: filepath.Join(t.TempDir(), "containers")})
	for _, ref := range []string{refOne, refTwo} {
		if _, err := s.Pull(context.Background(), ref, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateRootfs("c1", refOne, nil); err != nil {
		t.Fatal(err)
	}
	v0, err := s.MountImageVolume("c1", 0, refOne) // one layer: a read-only bind
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s.MountImageVolume("c1", 1, refTwo) // two layers: a read-only overlay
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{filepath.Join(v0, "data/one"): "1", filepath.Join(v1, "data/a"): "a", filepath.Join(v1, "data/b"): "b"} {
		if got, _ := os.ReadFile(p); string(got) != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, v := range []string{v0, v1} {
		if err := os.WriteFile(filepath.Join(v, "new"), nil, 0o644); err == nil {
			t.Errorf("image volume %s is writable", v)
		}
	}
	if ids, _ := s.RootfsIDs(); len(ids) != 1 || ids[0] != "c1" {
		t.Fatalf("RootfsIDs lists containers, not their volumes: %v", ids)
	}
	// The volume keeps its image's layers after the image is removed.
	if err := s.Remove(refTwo); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(v1, "data/b")); string(got) != "b" {
		t.Fatal("removing the image broke its volume")
	}
	if err := s.RemoveRootfs("c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.layerPath(two.diffIDs[1].Encoded())); !os.IsNotExist(err) {
		t.Error("the removed image's layers outlived the last volume using them")
	}
	if _, err := os.Stat(s.layerPath(one.diffIDs[0].Encoded())); err != nil {
		t.Errorf("an image still present lost its layer: %v", err)
	}
}
