// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMetadataSurvivesReopen(t *testing.T) {
	requireRoot(t)
	reg := newTestRegistry(t)
	ref := reg.push("app", "1", simpleImage(t, "persist"))
	root := t.TempDir()
	s, err := Open(Options{Root: root, Platform: &amd64})
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := s.Pull(context.Background(), ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = newTestStore(t, Options{Root: root})
	got, err := s.Get(ref)
	if err != nil {
		t.Fatalf("Get after reopen: %v", err)
	}
	if !reflect.DeepEqual(got, pulled) {
		t.Errorf("after reopen:\n got %+v\nwant %+v", got, pulled)
	}
	if dirs, err := s.LayerDirs(got.ID); err != nil || len(dirs) != 1 {
		t.Errorf("LayerDirs after reopen = %v, %v", dirs, err)
	}
}

func TestOpenSweepsWhatACrashLeft(t *testing.T) {
	requireRoot(t)
	reg := newTestRegistry(t)
	img := simpleImage(t, "kept")
	ref := reg.push("app", "1", img)
	root := t.TempDir()
	s, err := Open(Options{Root: root, Platform: &amd64})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// What a pull killed half-way leaves: a blob being written, a verified
	// blob no image references yet, a layer being unpacked, a layer
	// unpacked but never recorded, and a layer half deleted.
	orphanHex := strings.Repeat("ab", 32)
	leftovers := []string{
		filepath.Join(root, "blobs/sha256", tempPrefix+orphanHex+"-123"),
		filepath.Join(root, "blobs/sha256", orphanHex),
		filepath.Join(root, "layers", tempPrefix+orphanHex+"-456", "usr/bin/tool"),
		filepath.Join(root, "layers", orphanHex, "etc/file"),
		filepath.Join(root, "layers", trashPrefix+orphanHex+"-789", "file"),
	}
	for _, p := range leftovers {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s = newTestStore(t, Options{Root: root})
	for _, p := range []string{leftovers[0], leftovers[1], filepath.Join(root, "layers", tempPrefix+orphanHex+"-456"),
		filepath.Join(root, "layers", orphanHex), filepath.Join(root, "layers", trashPrefix+orphanHex+"-789")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived Open", p)
		}
	}
	// The recorded image is whole.
	got, err := s.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []digestT{img.manifestDigest, img.configDigest, img.layerBlobs[0]} {
		if !s.blobs.has(d) {
			t.Errorf("blob %s of a recorded image was swept", d)
		}
	}
	if _, err := s.LayerDirs(got.ID); err != nil {
		t.Errorf("LayerDirs: %v", err)
	}
}

func TestSecondOpenOfOneRootFails(t *testing.T) {
	root := t.TempDir()
	newTestStore(t, Options{Root: root})
	if s, err := Open(Options{Root: root}); err == nil {
		s.Close()
		t.Fatal("a second Open of the same root succeeded")
	} else if !strings.Contains(err.Error(), "locked") {
		t.Errorf("error %q does not say the store is locked", err)
	}
}

func TestUsageCountsTheStore(t *testing.T) {
	reg := newTestRegistry(t)
	ref := reg.push("app", "1", simpleImage(t, "usage"))
	s := newTestStore(t, Options{})
	before, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	after, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	if after.Path != s.root || after.UsedBytes <= before.UsedBytes || after.InodesUsed <= before.InodesUsed {
		t.Errorf("usage before %+v, after a pull %+v", before, after)
	}
}
