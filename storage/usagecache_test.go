// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"testing"
	"time"
)

// The image store's figure follows pulls and removals at once; the
// writable layers' is served from the last measurement.
func TestCachedUsageFollowsContentChanges(t *testing.T) {
	reg := newTestRegistry(t)
	img := buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, file("big", string(make([]byte, 1<<20)))))
	ref := reg.push("a", "1", img)
	s := newTestStore(t, Options{})
	empty, _, err := s.CachedUsage(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	pulled, _, err := s.CachedUsage(time.Hour)
	if err != nil || pulled.UsedBytes < empty.UsedBytes+1<<20 {
		t.Fatalf("after a 1 MiB pull: %+v (empty store %+v), %v", pulled, empty, err)
	}
	if err := s.Remove(ref); err != nil {
		t.Fatal(err)
	}
	removed, _, err := s.CachedUsage(time.Hour)
	if err != nil || removed.UsedBytes >= pulled.UsedBytes-1<<20 {
		t.Fatalf("after removing it: %+v (pulled %+v), %v", removed, pulled, err)
	}
}
