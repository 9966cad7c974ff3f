// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"os"
	"testing"
	"time"
)

// With a GC delay, an image removed and pulled again at once is whole
// again without a download, and what nothing references is still deleted
// soon after; a store closed before its collection ran sweeps it at Open.
func TestDeferredGCKeepsContentForARepull(t *testing.T) {
	reg := newTestRegistry(t)
	img := buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("a", "content")))
	ref := reg.push("a", "1", img)
	opts := Options{Root: t.TempDir(), GCDelay: 300 * time.Millisecond}
	s := newTestStore(t, opts)
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	if !s.blobs.has(img.layerBlobs[0]) {
		t.Fatal("the layer blob went before the GC delay")
	}
	reg.resetCounts()
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	if n := reg.blobGetCount(img.layerBlobs[0]); n != 0 {
		t.Errorf("the pull right after the removal fetched the layer %d times", n)
	}
	// The collection that removal asked for keeps what the image uses again.
	time.Sleep(600 * time.Millisecond)
	if dirs, err := s.LayerDirs(ref); err != nil || len(dirs) != 1 {
		t.Fatalf("LayerDirs after the collection = %v, %v", dirs, err)
	}

	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	unpacked := func() bool {
		_, err := os.Stat(s.layerPath(img.diffIDs[0].Encoded()))
		return !os.IsNotExist(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for (s.blobs.has(img.layerBlobs[0]) || unpacked()) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s.blobs.has(img.layerBlobs[0]) || unpacked() {
		t.Fatal("the content of a removed image was never deleted")
	}

	// Removed, then closed before the collection: the next Open sweeps.
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := newTestStore(t, opts)
	if s2.blobs.has(img.layerBlobs[0]) {
		t.Error("Open did not sweep the content a closed store left waiting")
	}
}
