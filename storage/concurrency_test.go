// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateBlobs holds every GET of the given blobs until release is closed,
// and signals each such request on seen.
func gateBlobs(reg *testRegistry, blobs ...digestT) (seen chan string, release chan struct{}) {
	seen, release = make(chan string, 64), make(chan struct{})
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		for _, d := range blobs {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+d.String()) {
				seen <- d.String()
				select {
				case <-release:
				case <-r.Context().Done():
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
	return seen, release
}

// waitFor polls cond: for conditions on internal state with no event to
// wait on. It is bounded so a broken test fails rather than hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRepullDownloadsNoLayer(t *testing.T) {
	reg := newTestRegistry(t)
	img := buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("a", "1")), gzipLayer(t, file("b", "2")))
	ref := reg.push("app", "1", img)
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	reg.resetCounts()
	got, err := s.Pull(context.Background(), ref, nil)
	if err != nil || got.ID != img.id() {
		t.Fatalf("second Pull = %s, %v", got.ID, err)
	}
	if n := reg.requestCount("/blobs/"); n != 0 {
		t.Errorf("re-pull made %d blob requests, want none", n)
	}
	if n := reg.requestCount("/manifests/1"); n != 1 {
		t.Errorf("re-pull resolved the tag %d times, want once", n)
	}
}

func TestConcurrentPullsOfOneRefShareTheDownload(t *testing.T) {
	reg := newTestRegistry(t)
	img := buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("a", "1")), gzipLayer(t, file("b", "2")))
	ref := reg.push("app", "1", img)
	seen, release := gateBlobs(reg, img.layerBlobs[0])
	s := newTestStore(t, Options{})

	const pullers = 4
	results := make(chan error, pullers)
	for range pullers {
		go func() {
			got, err := s.Pull(context.Background(), ref, nil)
			if err == nil && got.ID != img.id() {
				err = errors.New("wrong image " + got.ID)
			}
			results <- err
		}()
	}
	<-seen
	waitFor(t, "every pull to join", func() bool {
		s.pulls.mu.Lock()
		defer s.pulls.mu.Unlock()
		for _, c := range s.pulls.calls {
			return c.waiters == pullers
		}
		return false
	})
	close(release)
	for range pullers {
		if err := <-results; err != nil {
			t.Errorf("Pull: %v", err)
		}
	}
	for _, d := range append(img.layerBlobs, img.configDigest) {
		if n := reg.blobGetCount(d); n != 1 {
			t.Errorf("blob %s fetched %d times, want once", d, n)
		}
	}
	if n := reg.requestCount("/manifests/1"); n != 1 {
		t.Errorf("tag resolved %d times, want once", n)
	}
}

func TestConcurrentPullsOfImagesSharingALayerFetchItOnce(t *testing.T) {
	reg := newTestRegistry(t)
	shared := gzipLayer(t, file("shared", "base"))
	a := buildImage(t, imageOpts{format: "oci"}, shared, gzipLayer(t, file("a", "a")))
	b := buildImage(t, imageOpts{format: "oci"}, shared, gzipLayer(t, file("b", "b")))
	refA, refB := reg.push("a", "1", a), reg.push("b", "1", b)
	seen, release := gateBlobs(reg, a.layerBlobs[0])
	s := newTestStore(t, Options{})

	results := make(chan error, 2)
	go func() { _, err := s.Pull(context.Background(), refA, nil); results <- err }()
	<-seen // a holds the shared layer's download
	go func() { _, err := s.Pull(context.Background(), refB, nil); results <- err }()
	waitFor(t, "b to fetch its own layer", func() bool { return reg.blobGetCount(b.layerBlobs[1]) == 1 })
	close(release)
	for range 2 {
		if err := <-results; err != nil {
			t.Errorf("Pull: %v", err)
		}
	}
	if n := reg.blobGetCount(a.layerBlobs[0]); n != 1 {
		t.Errorf("shared layer fetched %d times, want once", n)
	}
	for _, ref := range []string{refA, refB} {
		if dirs, err := s.LayerDirs(ref); err != nil || len(dirs) != 2 {
			t.Errorf("LayerDirs(%s) = %v, %v", ref, dirs, err)
		}
	}
}

func TestRemoveDuringAPullKeepsWhatThePullUses(t *testing.T) {
	reg := newTestRegistry(t)
	shared := gzipLayer(t, file("shared", "base"))
	old := buildImage(t, imageOpts{format: "oci"}, shared)
	next := buildImage(t, imageOpts{format: "oci"}, shared, gzipLayer(t, file("new", "new")))
	refOld, refNext := reg.push("old", "1", old), reg.push("next", "1", next)
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), refOld, nil); err != nil {
		t.Fatal(err)
	}
	seen, release := gateBlobs(reg, next.layerBlobs[1])
	done := make(chan error, 1)
	go func() { _, err := s.Pull(context.Background(), refNext, nil); done <- err }()
	<-seen
	sharedLayer := layerKey(next.diffIDs[0].Encoded())
	waitFor(t, "the pull to lease the shared layer", func() bool {
		s.gcMu.Lock()
		defer s.gcMu.Unlock()
		return s.leased(sharedLayer)
	})
	// The only image recording the shared layer goes while the pull that
	// found it already stored is still running.
	if err := s.Remove(refOld); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if dirs, err := s.LayerDirs(refNext); err != nil || len(dirs) != 2 {
		t.Fatalf("LayerDirs after the pull = %v, %v; the shared layer was deleted under it", dirs, err)
	}
	if !s.blobs.has(next.layerBlobs[0]) {
		t.Errorf("the shared blob was deleted under the pull")
	}
}

func TestAbandonedPullIsCancelledAndCloseWaits(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "abandoned")
	ref := reg.push("app", "1", img)
	seen, release := gateBlobs(reg, img.layerBlobs[0])
	defer close(release)
	s := newTestStore(t, Options{})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := s.Pull(ctx, ref, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Pull = %v, want context.Canceled", err)
		}
	}()
	<-seen
	cancel()
	wg.Wait()
	// Every caller is gone, so the pull itself stops: Close does not hang
	// on the gated download.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), ref, nil); err == nil {
		t.Errorf("Pull on a closed store succeeded")
	}
}

func TestCloseEndsPullsInFlight(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "closing")
	ref := reg.push("app", "1", img)
	seen, release := gateBlobs(reg, img.layerBlobs[0])
	defer close(release)
	s := newTestStore(t, Options{})

	done := make(chan error, 1)
	go func() { _, err := s.Pull(context.Background(), ref, nil); done <- err }()
	<-seen
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if err == nil || errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Pull during Close = %v, want an error saying the store closed", err)
	}
}
