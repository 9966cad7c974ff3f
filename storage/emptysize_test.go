// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// contentUsage is the store's usage without its metadata database, whose
// file bbolt grows and reuses but never shrinks.
func contentUsage(t *testing.T, s *Store) Usage {
	t.Helper()
	u, err := s.Usage()
	if err != nil {
		t.Fatal(err)
	}
	db, err := dirUsage(filepath.Join(s.root, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	u.UsedBytes -= db.UsedBytes
	u.InodesUsed -= db.InodesUsed
	return u
}

// Pulls, pulls interrupted in the middle of a layer (by the progress
// timeout, and by the caller giving up), and removals: at the end the store
// holds exactly what it held empty.
func TestStoreReturnsToItsEmptySize(t *testing.T) {
	reg := newTestRegistry(t)
	a := reg.push("a", "1", simpleImage(t, "a"))
	b := reg.push("b", "1", simpleImage(t, "b"))
	stalled := simpleImage(t, "stalled")
	stalledRef := reg.push("stalled", "1", stalled)
	gone := simpleImage(t, "given-up")
	goneRef := reg.push("gone", "1", gone)
	// Both interrupted images send 10 bytes of their layer, then nothing.
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		for _, img := range []testImage{stalled, gone} {
			if strings.HasSuffix(r.URL.Path, img.layerBlobs[0].String()) {
				w.Write(img.blobs[0][:10])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return
			}
		}
		next.ServeHTTP(w, r)
	})
	root := t.TempDir()
	s := newTestStore(t, Options{Root: root, ProgressTimeout: 300 * time.Millisecond})
	empty := contentUsage(t, s)

	for _, ref := range []string{a, b} {
		if _, err := s.Pull(context.Background(), ref, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Pull(context.Background(), stalledRef, nil); !errors.Is(err, ErrProgressTimeout) {
		t.Fatalf("stalled pull: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err := s.Pull(ctx, goneRef, nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned pull: %v", err)
	}
	// The abandoned pull ends in the background; wait for its leftovers to
	// go (bounded: the progress timeout ends it at the latest).
	deadline := time.Now().Add(30 * time.Second)
	for hasTemp(t, s) {
		if time.Now().After(deadline) {
			t.Fatal("an abandoned pull's temporary files stayed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if full := contentUsage(t, s); full.InodesUsed <= empty.InodesUsed {
		t.Fatalf("usage with two images %+v, empty %+v", full, empty)
	}
	for _, ref := range []string{a, b} {
		if err := s.Remove(ref); err != nil {
			t.Fatal(err)
		}
	}
	if got := contentUsage(t, s); got != empty {
		t.Errorf("after removing every image the store holds %+v, empty it held %+v", got, empty)
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			t.Logf("  %s", p)
			return nil
		})
	}
}

func hasTemp(t *testing.T, s *Store) bool {
	t.Helper()
	for _, dir := range []string{s.blobs.dir, s.layersDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) || strings.HasPrefix(e.Name(), trashPrefix) {
				return true
			}
		}
	}
	return false
}
