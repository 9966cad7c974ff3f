// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// imageFile is one entry of an image's flattened filesystem.
type imageFile struct {
	hdr  *tar.Header
	data []byte
}

// flatten returns the image's merged filesystem by path (no leading "/" or
// trailing "/").
func flatten(t *testing.T, img v1.Image) map[string]imageFile {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]imageFile{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("read flattened image: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", hdr.Name, err)
		}
		files[strings.Trim(hdr.Name, "/")] = imageFile{hdr: hdr, data: data}
	}
}

// extract writes the image's filesystem under dir, as a runtime's snapshot
// would hold it (modes and owners included; we run as root).
func extract(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	files := flatten(t, img)
	// Directories first, deepest last, so parents exist.
	for name, f := range files {
		if f.hdr.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	links := map[string]string{}
	for name, f := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch f.hdr.Typeflag {
		case tar.TypeLink:
			links[p] = filepath.Join(dir, f.hdr.Linkname) // once every file exists
			continue
		case tar.TypeReg:
			if err := os.WriteFile(p, f.data, 0o600); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(f.hdr.Linkname, p); err != nil {
				t.Fatal(err)
			}
			continue
		case tar.TypeDir:
		default:
			t.Fatalf("unexpected entry type %q for %s", f.hdr.Typeflag, name)
		}
		if err := os.Lchown(p, f.hdr.Uid, f.hdr.Gid); err != nil {
			t.Fatal(err)
		}
		// Chmod after chown: chown clears the setuid bit.
		if err := os.Chmod(p, f.hdr.FileInfo().Mode()); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		if err := os.Link(target, p); err != nil {
			t.Fatal(err)
		}
	}
}

// entryByRef finds the entry serving repo:tag.
func entryByRef(set []Entry, repo, tag string) (Entry, bool) {
	for _, e := range set {
		if e.Repo != repo {
			continue
		}
		for _, tg := range e.Tags {
			if tg == tag {
				return e, true
			}
		}
	}
	return Entry{}, false
}

func mustSet(t *testing.T) []Entry {
	t.Helper()
	set, err := CRITestSet()
	if err != nil {
		t.Fatalf("CRITestSet: %v", err)
	}
	return set
}

func mustEntry(t *testing.T, set []Entry, repo, tag string) Entry {
	t.Helper()
	e, ok := entryByRef(set, repo, tag)
	if !ok {
		t.Fatalf("%s:%s is not in the set", repo, tag)
	}
	return e
}

func mustDigest(t *testing.T, e Entry) v1.Hash {
	t.Helper()
	d, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustImage(t *testing.T, set []Entry, repo, tag string) v1.Image {
	t.Helper()
	e := mustEntry(t, set, repo, tag)
	if e.Image == nil {
		t.Fatalf("%s:%s is an index, not an image", repo, tag)
	}
	return e.Image
}

func mustConfig(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf
}
