// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns the tar stream inside a layer blob, recognising gzip
// and zstd by their magic numbers and passing anything else through as an
// uncompressed tar.
func decompress(r *bufio.Reader) (io.ReadCloser, error) {
	head, err := r.Peek(len(zstdMagic))
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w: %v", ErrBadContent, err)
		}
		return zr, nil
	case bytes.HasPrefix(head, zstdMagic):
		// One decoder goroutine: layers are already unpacked in parallel.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w: %v", ErrBadContent, err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(r), nil
}
