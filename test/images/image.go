// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageSpec describes one single-platform image.
type imageSpec struct {
	arch    string
	variant string
	// oci selects OCI media types; otherwise Docker schema2. The set uses
	// both so a runtime's pull path is exercised with each.
	oci    bool
	config v1.Config
	layers []*layerBlob
}

// build assembles the image with fixed creation times everywhere.
func (s imageSpec) build() (v1.Image, error) {
	cfg := &v1.ConfigFile{
		Created:      v1.Time{Time: Epoch},
		Architecture: s.arch,
		Variant:      s.variant,
		OS:           "linux",
		Config:       s.config,
		RootFS:       v1.RootFS{Type: "layers"},
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return nil, fmt.Errorf("set image config: %w", err)
	}
	if s.oci {
		img = mutate.MediaType(img, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	}
	adds := make([]mutate.Addendum, 0, len(s.layers))
	for _, b := range s.layers {
		l, err := b.layer(s.oci)
		if err != nil {
			return nil, err
		}
		adds = append(adds, mutate.Addendum{
			Layer:   l,
			History: v1.History{Created: v1.Time{Time: Epoch}, CreatedBy: b.createdBy},
		})
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	return img, nil
}

// multiPlatform puts images into an OCI image index or a Docker manifest
// list, each entry carrying the platform of its config so a runtime has to
// pick the one for its host.
func multiPlatform(oci bool, imgs ...v1.Image) (v1.ImageIndex, error) {
	var idx v1.ImageIndex = empty.Index
	if !oci {
		idx = mutate.IndexMediaType(idx, types.DockerManifestList)
	}
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("read image config: %w", err)
		}
		mt, err := img.MediaType()
		if err != nil {
			return nil, fmt.Errorf("read image media type: %w", err)
		}
		if (mt == types.OCIManifestSchema1) != oci {
			return nil, fmt.Errorf("image of media type %s does not belong in this index", mt)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				MediaType: mt,
				Platform:  &v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant},
			},
		})
	}
	return idx, nil
}
