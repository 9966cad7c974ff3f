// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"encoding/json"
	"fmt"
	"mime"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of the Docker image format (schema 2) beside the OCI ones.
const (
	mediaTypeOCIIndex            = ocispec.MediaTypeImageIndex
	mediaTypeOCIManifest         = ocispec.MediaTypeImageManifest
	mediaTypeDockerList          = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaTypeDockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	mediaTypeDockerConfig        = "application/vnd.docker.container.image.v1+json"
)

// layerMediaTypes are the layer blobs a pull accepts: tar streams,
// uncompressed or compressed with gzip or zstd. The compression actually
// used is read from the stream's magic number when unpacking, as Docker
// does, since some registries and tools label it loosely.
var layerMediaTypes = map[string]bool{
	ocispec.MediaTypeImageLayer:                                    true,
	ocispec.MediaTypeImageLayerGzip:                                true,
	ocispec.MediaTypeImageLayerZstd:                                true,
	"application/vnd.oci.image.layer.nondistributable.v1.tar":      true,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip": true,
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": true,
	"application/vnd.docker.image.rootfs.diff.tar":                 true,
	"application/vnd.docker.image.rootfs.diff.tar.gzip":            true,
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":    true,
}

var configMediaTypes = map[string]bool{
	ocispec.MediaTypeImageConfig: true,
	mediaTypeDockerConfig:        true,
}

type manifestKind int

const (
	kindManifest manifestKind = iota + 1
	kindIndex
)

// classifyManifest tells an image manifest from an index. The mediaType in
// the body wins over the Content-Type header, as it is covered by the
// digest; a manifest with neither (or a generic one) is judged by its
// fields, which is what containerd does for old registries.
func classifyManifest(contentType string, body []byte) (manifestKind, error) {
	var probe struct {
		SchemaVersion int             `json:"schemaVersion"`
		MediaType     string          `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
		Layers        json.RawMessage `json:"layers"`
		FSLayers      json.RawMessage `json:"fsLayers"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return 0, fmt.Errorf("manifest is not JSON: %w: %v", ErrBadContent, err)
	}
	mt := probe.MediaType
	if mt == "" {
		mt, _, _ = mime.ParseMediaType(contentType)
	}
	switch mt {
	case mediaTypeOCIIndex, mediaTypeDockerList:
		return kindIndex, nil
	case mediaTypeOCIManifest, mediaTypeDockerManifest:
		return kindManifest, nil
	case mediaTypeDockerSchema1, mediaTypeDockerSchema1Signed:
		return 0, errSchema1()
	case "", "application/json", "application/octet-stream", "text/plain":
	default:
		return 0, fmt.Errorf("manifest media type %q is not supported: %w", mt, ErrBadContent)
	}
	switch {
	case probe.SchemaVersion == 1 || probe.FSLayers != nil:
		return 0, errSchema1()
	case probe.Manifests != nil:
		return kindIndex, nil
	case probe.Config != nil && probe.Layers != nil:
		return kindManifest, nil
	}
	return 0, fmt.Errorf("manifest is neither an image manifest nor an index: %w", ErrBadContent)
}

func errSchema1() error {
	return fmt.Errorf("image uses the Docker schema 1 manifest format, which is not supported (push it again with a current client): %w", ErrBadContent)
}

// validateManifest refuses manifests that do not describe a container image
// this store can unpack.
func validateManifest(m ocispec.Manifest) error {
	if !configMediaTypes[m.Config.MediaType] {
		return fmt.Errorf("not a container image: config media type %q: %w", m.Config.MediaType, ErrBadContent)
	}
	if err := checkDescriptor(m.Config); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	for i, l := range m.Layers {
		if !layerMediaTypes[l.MediaType] {
			return fmt.Errorf("layer %d (%s): media type %q is not supported: %w", i, l.Digest, l.MediaType, ErrBadContent)
		}
		if err := checkDescriptor(l); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return nil
}

func checkDescriptor(d ocispec.Descriptor) error {
	if err := checkDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("descriptor %s has negative size: %w", d.Digest, ErrBadContent)
	}
	return nil
}
