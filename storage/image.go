// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is a stored image as the CRI layer sees it.
type Image struct {
	// ID is "sha256:<hex>" of the config blob.
	ID string
	// RepoTags are normalised tags, e.g. "docker.io/library/busybox:latest",
	// sorted.
	RepoTags []string
	// RepoDigests are name@digest of what a reference resolved to: the
	// index for a multi-arch image, else the manifest. Sorted.
	RepoDigests []string
	// Size is the bytes of the image's content: manifest, config and
	// compressed layers.
	Size uint64
	// Config is the parsed image config and ConfigJSON its exact bytes.
	Config     ocispec.Image
	ConfigJSON []byte
	// Layers are the diff IDs, bottom first.
	Layers []digest.Digest
	// Pinned images are never garbage-collected by the kubelet.
	Pinned bool
	// ManifestDigest is the platform manifest that was chosen.
	ManifestDigest digest.Digest
}

// Usage is what the image store occupies on disk.
type Usage struct {
	// Path is the image store's directory, on the filesystem measured.
	Path       string
	UsedBytes  uint64
	InodesUsed uint64
}

// imageRecord is an image as meta.db keeps it (JSON in the images bucket).
type imageRecord struct {
	ID             string        `json:"id"`
	RepoTags       []string      `json:"repoTags,omitempty"`
	RepoDigests    []string      `json:"repoDigests,omitempty"`
	ManifestDigest digest.Digest `json:"manifestDigest"`
	ConfigDigest   digest.Digest `json:"configDigest"`
	// Config holds the config blob's exact bytes (base64 in JSON), so that
	// reads need no blob and the bytes still hash to the ID.
	Config  []byte               `json:"config"`
	Layers  []ocispec.Descriptor `json:"layers"`
	DiffIDs []digest.Digest      `json:"diffIDs"`
	Size    uint64               `json:"size"`
	// Blobs is every blob the image keeps alive: indexes, manifests,
	// config and layers, including those of earlier pulls whose digests
	// are still among RepoDigests.
	Blobs  []digest.Digest `json:"blobs"`
	Pulled time.Time       `json:"pulled"`
}

// image converts a record for callers; slices are copies so callers may
// keep or change them freely.
func (r imageRecord) image(pinned bool) (Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(r.Config, &cfg); err != nil {
		return Image{}, fmt.Errorf("image %s: stored config: %w", r.ID, err)
	}
	return Image{
		ID:             r.ID,
		RepoTags:       nonNil(slices.Clone(r.RepoTags)),
		RepoDigests:    nonNil(slices.Clone(r.RepoDigests)),
		Size:           r.Size,
		Config:         cfg,
		ConfigJSON:     slices.Clone(r.Config),
		Layers:         slices.Clone(r.DiffIDs),
		Pinned:         pinned,
		ManifestDigest: r.ManifestDigest,
	}, nil
}

// nonNil keeps empty lists empty rather than null for callers that
// serialise them.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
