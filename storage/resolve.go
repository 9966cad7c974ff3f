// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxIndexDepth bounds indexes nested in indexes, which the spec allows
// and nobody needs deeply.
const maxIndexDepth = 3

// resolvedImage is what a reference turned out to name on a registry.
type resolvedImage struct {
	// target is the digest the reference resolved to: the index of a
	// multi-arch image, else the manifest. RepoDigests use it.
	target         digest.Digest
	manifestDigest digest.Digest
	manifestSize   int64
	manifest       ocispec.Manifest
	// blobs are the index and manifest blobs now stored.
	blobs []digest.Digest
}

// resolve fetches the reference's manifest, descending through indexes to
// the manifest for the store's platform, and stores each verified index
// and manifest.
func (s *Store) resolve(ctx context.Context, c *repoClient, named reference.Named, l *lease) (resolvedImage, error) {
	var res resolvedImage
	ident := refIdentifier(named)
	var want ocispec.Descriptor // set when the digest is known in advance
	if cn, ok := named.(reference.Canonical); ok {
		want = ocispec.Descriptor{Digest: cn.Digest(), Size: -1}
	}
	for depth := 0; ; depth++ {
		m, err := c.manifest(ctx, ident)
		if err != nil {
			return res, fmt.Errorf("manifest %s: %w", ident, err)
		}
		kind, err := classifyManifest(m.contentType, m.body)
		if err != nil {
			return res, fmt.Errorf("manifest %s: %w", ident, err)
		}
		if want.Digest != "" && m.digest != want.Digest {
			return res, fmt.Errorf("manifest %s: received content has digest %s: %w", ident, m.digest, ErrBadContent)
		}
		if want.Size >= 0 && want.Digest != "" && int64(len(m.body)) != want.Size {
			return res, fmt.Errorf("manifest %s: received %d bytes, the index says %d: %w", ident, len(m.body), want.Size, ErrBadContent)
		}
		if depth == 0 {
			res.target = m.digest
		}
		l.hold(blobKey(m.digest.Encoded()))
		if err := s.blobs.writeBytes(m.digest, m.body); err != nil {
			return res, fmt.Errorf("manifest %s: %w", ident, err)
		}
		res.blobs = append(res.blobs, m.digest)

		if kind == kindManifest {
			var man ocispec.Manifest
			if err := json.Unmarshal(m.body, &man); err != nil {
				return res, fmt.Errorf("manifest %s: %w: %v", m.digest, ErrBadContent, err)
			}
			if err := validateManifest(man); err != nil {
				return res, fmt.Errorf("manifest %s: %w", m.digest, err)
			}
			res.manifestDigest, res.manifestSize, res.manifest = m.digest, int64(len(m.body)), man
			return res, nil
		}

		if depth == maxIndexDepth {
			return res, fmt.Errorf("index %s: indexes nested more than %d deep: %w", m.digest, maxIndexDepth, ErrBadContent)
		}
		var idx ocispec.Index
		if err := json.Unmarshal(m.body, &idx); err != nil {
			return res, fmt.Errorf("index %s: %w: %v", m.digest, ErrBadContent, err)
		}
		chosen, err := chooseManifest(idx, *s.opts.Platform)
		if err != nil {
			return res, fmt.Errorf("index %s: %w", m.digest, err)
		}
		if err := checkDescriptor(chosen); err != nil {
			return res, fmt.Errorf("index %s: %w", m.digest, err)
		}
		ident, want = chosen.Digest.String(), chosen
	}
}
