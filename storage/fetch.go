// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// pullFrom pulls the image from one endpoint and records it.
func (s *Store) pullFrom(ctx context.Context, ep endpoint, named reference.Named, auth authn.Authenticator, rt http.RoundTripper, l *lease) (imageRecord, error) {
	c, err := dialRepo(ctx, ep, reference.Path(named), auth, rt)
	if err != nil {
		return imageRecord{}, err
	}
	res, err := s.resolve(ctx, c, named, l)
	if err != nil {
		return imageRecord{}, err
	}
	configJSON, config, err := s.fetchConfig(ctx, c, named, res.manifest.Config, l)
	if err != nil {
		return imageRecord{}, err
	}
	diffIDs := config.RootFS.DiffIDs
	if len(diffIDs) != len(res.manifest.Layers) {
		return imageRecord{}, fmt.Errorf("image %s: manifest has %d layers but config has %d diff IDs: %w",
			res.manifestDigest, len(res.manifest.Layers), len(diffIDs), ErrBadContent)
	}
	if err := s.fetchLayers(ctx, c, named, res.manifest.Layers, diffIDs, l); err != nil {
		return imageRecord{}, err
	}

	size := uint64(res.manifestSize) + uint64(len(configJSON))
	blobs := append(res.blobs, res.manifest.Config.Digest)
	for _, layer := range res.manifest.Layers {
		size += uint64(layer.Size)
		blobs = append(blobs, layer.Digest)
	}
	rec := imageRecord{
		ID:             idPrefix + res.manifest.Config.Digest.Encoded(),
		ManifestDigest: res.manifestDigest,
		ConfigDigest:   res.manifest.Config.Digest,
		Config:         configJSON,
		Layers:         res.manifest.Layers,
		DiffIDs:        diffIDs,
		Size:           size,
		Blobs:          union(blobs, nil),
		Pulled:         time.Now().UTC(),
	}
	refs := []string{digestRef(named, res.target)}
	if _, tagged := named.(reference.Tagged); tagged {
		refs = append(refs, named.String())
	}
	return s.commitImage(rec, refs)
}

// fetchConfig stores the image config and parses it.
func (s *Store) fetchConfig(ctx context.Context, c *repoClient, named reference.Named, desc ocispec.Descriptor, l *lease) ([]byte, ocispec.Image, error) {
	var config ocispec.Image
	if err := s.ensureBlob(ctx, c, named, desc, "config", l); err != nil {
		return nil, config, err
	}
	raw, err := s.blobs.read(desc.Digest)
	if err != nil {
		return nil, config, err
	}
	if err := json.Unmarshal(raw, &config); err != nil {
		return nil, config, fmt.Errorf("config %s: %w: %v", desc.Digest, ErrBadContent, err)
	}
	if config.RootFS.Type != "layers" {
		return nil, config, fmt.Errorf("config %s: rootfs type %q is not \"layers\": %w", desc.Digest, config.RootFS.Type, ErrBadContent)
	}
	for _, d := range config.RootFS.DiffIDs {
		if err := checkDigest(d); err != nil {
			return nil, config, fmt.Errorf("config %s: diff ID: %w", desc.Digest, err)
		}
	}
	return raw, config, nil
}

// fetchLayers makes sure every layer's blob is stored and unpacked,
// fetching at most MaxConcurrentDownloads at once.
func (s *Store) fetchLayers(ctx context.Context, c *repoClient, named reference.Named, layers []ocispec.Descriptor, diffIDs []digest.Digest, l *lease) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.MaxConcurrentDownloads)
	for i := range layers {
		desc, diffID := layers[i], diffIDs[i]
		g.Go(func() error {
			l.hold(layerKey(diffID.Encoded()))
			if err := s.ensureBlob(gctx, c, named, desc, "layer", l); err != nil {
				return err
			}
			return s.ensureLayer(gctx, desc, diffID)
		})
	}
	return g.Wait()
}

// ensureBlob stores blob desc unless it is stored already; pulls needing
// the same blob at the same time fetch it once.
func (s *Store) ensureBlob(ctx context.Context, c *repoClient, named reference.Named, desc ocispec.Descriptor, what string, l *lease) error {
	l.hold(blobKey(desc.Digest.Encoded()))
	return s.blobFlights.doShared(ctx, desc.Digest.Encoded(), func() error {
		if s.blobs.has(desc.Digest) {
			return nil
		}
		body, err := c.blob(ctx, desc.Digest)
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, desc.Digest, err)
		}
		defer body.Close()
		progress := newProgressReader(body, named.String(), what, desc.Digest, desc.Size)
		progress.started()
		s.downloads.add(progress)
		defer s.downloads.remove(progress)
		if err := s.blobs.write(desc.Digest, desc.Size, progress); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		progress.finished()
		return nil
	})
}

// ensureLayer unpacks a stored layer blob unless its directory exists;
// pulls needing the same layer at the same time unpack it once.
func (s *Store) ensureLayer(ctx context.Context, desc ocispec.Descriptor, diffID digest.Digest) error {
	return s.unpacks.doShared(ctx, diffID.Encoded(), func() error {
		if fi, err := os.Stat(s.layerPath(diffID.Encoded())); err == nil && fi.IsDir() {
			return nil
		}
		return s.unpackLayer(ctx, desc, diffID)
	})
}
