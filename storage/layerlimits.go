// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"io"
)

// A manifest declares a layer's compressed size, never what it expands to,
// and the diff ID can only be checked at the end of the stream. So a
// decompression bomb would fill the disk before its digest could be found
// wrong. Unpacking stops, with ErrBadContent (DataLoss), once a layer
// expands past a multiple of its declared size or holds too many entries.
// Real layers stay far below: text-heavy layers compress about 5-10×.
const (
	maxExpansion  = 100 // uncompressed bytes per declared compressed byte
	bytesPerEntry = 64  // beyond the floor, entries per declared byte
)

// The floors: variables so the tests can lower them.
var (
	minUnpackedAllowed int64 = 512 << 20 // small layers may always expand this far
	minEntriesAllowed  int64 = 200_000   // tar entries any layer may hold
)

// unpackLimits returns the most bytes and tar entries a layer of the given
// declared (compressed) size may unpack to.
func unpackLimits(declared int64) (maxBytes, maxEntries int64) {
	maxBytes, maxEntries = declared*maxExpansion, declared/bytesPerEntry
	if maxBytes < minUnpackedAllowed {
		maxBytes = minUnpackedAllowed
	}
	if maxEntries < minEntriesAllowed {
		maxEntries = minEntriesAllowed
	}
	return maxBytes, maxEntries
}

// capReader fails once more than max bytes were read.
type capReader struct {
	r        io.Reader
	max, n   int64
	declared int64
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		return n, fmt.Errorf("layer expands past %d bytes, over %d× its declared %d: %w", c.max, maxExpansion, c.declared, ErrBadContent)
	}
	return n, err
}
