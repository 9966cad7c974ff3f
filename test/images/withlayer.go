// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// WithLayer returns base with one more gzip layer holding entries exactly
// as given: in that order, unsorted, with no parent directories added and
// no names cleaned, so tests can build layers that try to escape the root
// ("../x", absolute or outward symlinks, hardlinks to outside paths). The
// layer's media type follows the base manifest's (OCI or Docker).
func WithLayer(base v1.Image, entries []TarEntry) (v1.Image, error) {
	mt, err := base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("read base media type: %w", err)
	}
	blob, err := layerFromEntries(entries, gzipped, "podshim: test layer")
	if err != nil {
		return nil, fmt.Errorf("build test layer: %w", err)
	}
	l, err := blob.layer(mt == types.OCIManifestSchema1)
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   l,
		History: v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: blob.createdBy},
	})
	if err != nil {
		return nil, fmt.Errorf("append test layer: %w", err)
	}
	return img, nil
}
