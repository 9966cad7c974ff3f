// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"testing"
)

func TestPinSetExactAndGlobs(t *testing.T) {
	p, err := newPinSet([]string{"busybox", "registry.k8s.io/pause:*", "*/e2e-test-images/*", "myorg/app:v?", "localhost:5000/x/*"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"docker.io/library/busybox:latest":             true, // exact, normalised
		"docker.io/library/busybox:1":                  false,
		"registry.k8s.io/pause:3.10":                   true,
		"registry.k8s.io/pausex:1":                     false,
		"registry.k8s.io/e2e-test-images/agnhost:2.53": true,
		"docker.io/myorg/app:v1":                       true,
		"docker.io/myorg/app:v10":                      false,
		"localhost:5000/x/y/z:1":                       true,
	} {
		if got := p.matches(name); got != want {
			t.Errorf("matches(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestPinSetRefusesBadReferences(t *testing.T) {
	if _, err := newPinSet([]string{"not a reference"}); !errors.Is(err, ErrInvalidReference) {
		t.Fatalf("want ErrInvalidReference, got %v", err)
	}
}

// A pulled image reports Pinned when a pattern matches any of its names.
func TestPulledImagesReportPinned(t *testing.T) {
	reg := newTestRegistry(t)
	pinnedRef := reg.push("keep/me", "1", simpleImage(t, "keep"))
	otherRef := reg.push("drop/me", "1", simpleImage(t, "drop"))
	s := newTestStore(t, Options{PinnedImages: []string{reg.host + "/keep/*"}})
	for ref, want := range map[string]bool{pinnedRef: true, otherRef: false} {
		img, err := s.Pull(context.Background(), ref, nil)
		if err != nil {
			t.Fatal(err)
		}
		if img.Pinned != want {
			t.Errorf("%s: Pinned %v, want %v", ref, img.Pinned, want)
		}
	}
}
