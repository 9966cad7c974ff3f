// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"errors"
	"io"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// TestWithLayerKeepsEntriesVerbatim: hostile names and links must reach
// the layer unchanged and in order, and the layer must match the base's
// manifest flavour.
func TestWithLayerKeepsEntriesVerbatim(t *testing.T) {
	base, err := BusyboxZstd() // OCI
	if err != nil {
		t.Fatal(err)
	}
	entries := []TarEntry{
		{Name: "../escape", Mode: 0o644, Data: []byte("x")},
		{Name: "evil-link", Type: tar.TypeSymlink, Linkname: "/etc/../../host", Mode: 0o777},
		{Name: "hard", Type: tar.TypeLink, Linkname: "../../outside"},
		{Name: "xattr", Mode: 0o600, UID: 7, GID: 8, PAXRecords: map[string]string{"SCHILY.xattr.user.k": "v"}},
	}
	img, err := WithLayer(base, entries)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 2 {
		t.Fatalf("%d layers, want 2", len(layers))
	}
	top := layers[1]
	if mt, _ := top.MediaType(); mt != types.OCILayer {
		t.Errorf("layer media type %s, want %s", mt, types.OCILayer)
	}
	rc, err := top.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for i := 0; ; i++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			if i != len(entries) {
				t.Errorf("%d entries, want %d", i, len(entries))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := entries[i]
		if hdr.Name != want.Name || hdr.Linkname != want.Linkname || hdr.Uid != want.UID || hdr.Gid != want.GID {
			t.Errorf("entry %d: %q -> %q (%d:%d), want %+v", i, hdr.Name, hdr.Linkname, hdr.Uid, hdr.Gid, want)
		}
		if want.PAXRecords != nil && hdr.PAXRecords["SCHILY.xattr.user.k"] != "v" {
			t.Errorf("entry %d lost its xattr: %v", i, hdr.PAXRecords)
		}
	}
}
