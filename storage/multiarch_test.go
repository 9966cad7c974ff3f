// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestPullMultiArchIndexPicksTheNodePlatform(t *testing.T) {
	for _, indexType := range []string{ocispec.MediaTypeImageIndex, mediaTypeDockerList} {
		t.Run(indexType, func(t *testing.T) {
			reg := newTestRegistry(t)
			format := "oci"
			if indexType == mediaTypeDockerList {
				format = "docker"
			}
			arm := buildImage(t, imageOpts{format: format, platform: &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
				gzipLayer(t, file("arch", "arm64")))
			x86 := buildImage(t, imageOpts{format: format, platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
				gzipLayer(t, file("arch", "amd64")))
			attestation := buildImage(t, imageOpts{format: format, platform: &ocispec.Platform{OS: "unknown", Architecture: "unknown"}},
				gzipLayer(t, file("attestation", "{}")))
			ref, indexDigest := reg.pushIndex("multi", "1", indexType, arm, attestation, x86)
			s := newTestStore(t, Options{Platform: &amd64})

			got, err := s.Pull(context.Background(), ref, nil)
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if got.ID != x86.id() || got.ManifestDigest != x86.manifestDigest {
				t.Errorf("chose %s (manifest %s), want the amd64 image %s", got.ID, got.ManifestDigest, x86.id())
			}
			if want := []string{reg.host + "/multi@" + indexDigest.String()}; !slices.Equal(got.RepoDigests, want) {
				t.Errorf("RepoDigests = %v, want the index digest %v", got.RepoDigests, want)
			}
			if reg.blobGetCount(arm.layerBlobs[0]) != 0 || reg.blobGetCount(attestation.layerBlobs[0]) != 0 {
				t.Errorf("fetched layers of other platforms")
			}

			armStore := newTestStore(t, Options{Platform: ptr(v1Platform("linux", "arm64", ""))})
			if got, err := armStore.Pull(context.Background(), ref, nil); err != nil || got.ID != arm.id() {
				t.Errorf("arm64 node: Pull = %s, %v; want %s", got.ID, err, arm.id())
			}
		})
	}
}

func TestPullIndexWithoutThePlatformIsNotFound(t *testing.T) {
	reg := newTestRegistry(t)
	arm := buildImage(t, imageOpts{format: "oci", platform: &ocispec.Platform{OS: "linux", Architecture: "arm64"}}, gzipLayer(t, file("a", "a")))
	ref, _ := reg.pushIndex("armonly", "1", ocispec.MediaTypeImageIndex, arm)
	s := newTestStore(t, Options{Platform: &amd64})
	_, err := s.Pull(context.Background(), ref, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pull = %v, want ErrNotFound", err)
	}
}

func TestPlatformScore(t *testing.T) {
	for _, tc := range []struct {
		want       [3]string
		have       ocispec.Platform
		runs, best bool
	}{
		{[3]string{"linux", "amd64", ""}, ocispec.Platform{OS: "linux", Architecture: "amd64"}, true, true},
		{[3]string{"linux", "amd64", ""}, ocispec.Platform{OS: "linux", Architecture: "arm64"}, false, false},
		{[3]string{"linux", "amd64", ""}, ocispec.Platform{OS: "windows", Architecture: "amd64"}, false, false},
		{[3]string{"linux", "arm64", "v8"}, ocispec.Platform{OS: "linux", Architecture: "arm64"}, true, true},
		{[3]string{"linux", "arm", "v7"}, ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, true, true},
		{[3]string{"linux", "arm", "v7"}, ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, true, false},
		{[3]string{"linux", "arm", "v6"}, ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, false, false},
	} {
		score := platformScore(v1Platform(tc.want[0], tc.want[1], tc.want[2]), &tc.have)
		if (score > 0) != tc.runs || (score == 3) != tc.best {
			t.Errorf("platformScore(%v, %+v) = %d", tc.want, tc.have, score)
		}
	}
}

func ptr[T any](v T) *T { return &v }
