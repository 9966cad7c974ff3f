// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
)

func TestRemoveFreesWhatNoOtherImageUses(t *testing.T) {
	reg := newTestRegistry(t)
	shared := gzipLayer(t, file("shared", "base"))
	a := buildImage(t, imageOpts{format: "oci"}, shared, gzipLayer(t, file("a", "only a")))
	b := buildImage(t, imageOpts{format: "oci"}, shared, gzipLayer(t, file("b", "only b")))
	refA1 := reg.push("a", "1", a)
	refA2 := reg.push("a", "2", a)
	refB := reg.push("b", "1", b)
	s := newTestStore(t, Options{})
	for _, ref := range []string{refA1, refA2, refB} {
		if _, err := s.Pull(context.Background(), ref, nil); err != nil {
			t.Fatalf("Pull(%s): %v", ref, err)
		}
	}
	if img, _ := s.Get(a.id()); len(img.RepoTags) != 2 {
		t.Fatalf("image a has tags %v, want two", img.RepoTags)
	}

	if err := s.Remove(refA1); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	for _, q := range []string{refA1, refA2, a.id(), reg.host + "/a@" + a.manifestDigest.String()} {
		if _, err := s.Get(q); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) after Remove = %v, want ErrNotFound", q, err)
		}
	}
	for _, d := range []digestT{a.manifestDigest, a.configDigest, a.layerBlobs[1]} {
		if s.blobs.has(d) {
			t.Errorf("blob %s of the removed image is still stored", d)
		}
	}
	if _, err := os.Stat(s.layerPath(a.diffIDs[1].Encoded())); !os.IsNotExist(err) {
		t.Errorf("the removed image's own layer is still unpacked")
	}
	// What b shares with a stays, and b is whole.
	if !s.blobs.has(a.layerBlobs[0]) {
		t.Errorf("the shared layer blob was deleted")
	}
	dirs, err := s.LayerDirs(refB)
	if err != nil || len(dirs) != 2 {
		t.Fatalf("LayerDirs(b) = %v, %v", dirs, err)
	}
	if got, err := s.Get(refB); err != nil || got.ID != b.id() {
		t.Errorf("Get(b) = %s, %v", got.ID, err)
	}

	if err := s.Remove(refA1); err != nil {
		t.Errorf("Remove of an image already removed = %v, want nil", err)
	}

	// Concurrent removals of one image all succeed.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Remove(b.id())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Remove: %v", err)
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("images left: %v", list)
	}
	for _, dir := range []string{s.blobs.dir, s.layersDir} {
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s still holds %d entries after every image was removed", dir, len(entries))
		}
	}
}

func TestRemoveUnknownImageSucceeds(t *testing.T) {
	s := newTestStore(t, Options{})
	for _, ref := range []string{"busybox", "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "0123456789ab"} {
		if err := s.Remove(ref); err != nil {
			t.Errorf("Remove(%s) = %v, want nil", ref, err)
		}
	}
}
