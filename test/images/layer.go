// SPDX-License-Identifier: Apache-2.0

package images

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// compression of a layer blob.
type compression int

const (
	gzipped compression = iota
	zstdCompressed
)

// layerBlob is a layer compressed once, in memory. Compressing here rather
// than leaving it to go-containerregistry pins the exact compressor and
// settings, and guarantees the bytes served are the bytes that were hashed.
type layerBlob struct {
	uncompressed []byte
	compressed   []byte
	comp         compression
	digest       v1.Hash
	diffID       v1.Hash
	// createdBy is recorded in the image history.
	createdBy string
}

func newLayerBlob(tarball []byte, comp compression, createdBy string) (*layerBlob, error) {
	var buf bytes.Buffer
	switch comp {
	case gzipped:
		// The zero gzip header (no name, no mtime) keeps the bytes stable.
		zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
		if err != nil {
			return nil, fmt.Errorf("gzip writer: %w", err)
		}
		if _, err := zw.Write(tarball); err != nil {
			return nil, fmt.Errorf("gzip layer: %w", err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("gzip layer: %w", err)
		}
	case zstdCompressed:
		// One encoder goroutine: the output must not depend on scheduling.
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			return nil, fmt.Errorf("zstd writer: %w", err)
		}
		buf.Write(zw.EncodeAll(tarball, nil))
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("zstd layer: %w", err)
		}
	default:
		return nil, fmt.Errorf("unknown layer compression %d", comp)
	}
	digest, _, err := v1.SHA256(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("hash compressed layer: %w", err)
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(tarball))
	if err != nil {
		return nil, fmt.Errorf("hash layer tarball: %w", err)
	}
	return &layerBlob{
		uncompressed: tarball,
		compressed:   buf.Bytes(),
		comp:         comp,
		digest:       digest,
		diffID:       diffID,
		createdBy:    createdBy,
	}, nil
}

// layerFromEntries writes entries (in the order given) and compresses them.
func layerFromEntries(entries []TarEntry, comp compression, createdBy string) (*layerBlob, error) {
	tarball, err := writeTar(entries)
	if err != nil {
		return nil, err
	}
	return newLayerBlob(tarball, comp, createdBy)
}

// layer presents the blob under the media type that matches the manifest
// it goes into: Docker schema2 manifests list Docker layer types, OCI
// manifests OCI ones, and zstd exists only in OCI.
func (b *layerBlob) layer(oci bool) (v1.Layer, error) {
	var mt types.MediaType
	switch {
	case b.comp == zstdCompressed && !oci:
		return nil, fmt.Errorf("zstd layers need an OCI manifest")
	case b.comp == zstdCompressed:
		mt = types.OCILayerZStd
	case oci:
		mt = types.OCILayer
	default:
		mt = types.DockerLayer
	}
	return &memLayer{blob: b, mediaType: mt}, nil
}

// memLayer is a v1.Layer over a layerBlob.
type memLayer struct {
	blob      *layerBlob
	mediaType types.MediaType
}

func (l *memLayer) Digest() (v1.Hash, error) { return l.blob.digest, nil }
func (l *memLayer) DiffID() (v1.Hash, error) { return l.blob.diffID, nil }
func (l *memLayer) Size() (int64, error)     { return int64(len(l.blob.compressed)), nil }

func (l *memLayer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

func (l *memLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob.compressed)), nil
}

func (l *memLayer) Uncompressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob.uncompressed)), nil
}
