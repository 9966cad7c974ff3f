// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A layer that expands far past its declared size, or holds far too many
// entries, is refused as bad content (DataLoss) while unpacking, before it
// fills the disk, and leaves nothing behind.
func TestDecompressionBombsAreRefused(t *testing.T) {
	oldBytes, oldEntries := minUnpackedAllowed, minEntriesAllowed
	minUnpackedAllowed, minEntriesAllowed = 1<<20, 100
	t.Cleanup(func() { minUnpackedAllowed, minEntriesAllowed = oldBytes, oldEntries })

	many := make([]tarEntry, 300)
	for i := range many {
		many[i] = file(fmt.Sprintf("f%d", i), "")
	}
	for name, tc := range map[string]struct {
		entries []tarEntry
		want    string
	}{
		// 8 MiB of zeros gzip to a few KiB: far past 100× and the floor.
		"bytes":   {[]tarEntry{file("zeros", strings.Repeat("\x00", 8<<20))}, "layer expands past"},
		"entries": {many, "more than 100 entries"},
	} {
		t.Run(name, func(t *testing.T) {
			reg := newTestRegistry(t)
			ref := reg.push("bomb", "1", buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, tc.entries...)))
			s := newTestStore(t, Options{})
			_, err := s.Pull(context.Background(), ref, nil)
			if !errors.Is(err, ErrBadContent) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Pull = %v, want ErrBadContent: %s", err, tc.want)
			}
			assertNoContent(t, s)
		})
	}
	// An ordinary layer well inside the limits still unpacks.
	pullLayer(t, file("a", strings.Repeat("x", 1<<19)))
}
