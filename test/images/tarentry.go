// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Epoch is the timestamp of every file, layer and image this package makes.
// A fixed time is what keeps digests stable from one build to the next.
var Epoch = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// TarEntry is one raw entry of a layer tarball. Nothing is cleaned or
// checked, so tests can craft hostile layers: names with "../", absolute
// symlinks pointing out of the root, hardlinks to files outside the layer.
type TarEntry struct {
	// Name is the path inside the layer, e.g. "etc/passwd" or "../escape".
	Name string
	// Type is the tar type flag: tar.TypeReg, tar.TypeDir, tar.TypeSymlink,
	// tar.TypeLink, tar.TypeChar... The zero value means a regular file.
	Type byte
	// Mode holds the permission bits plus setuid/setgid/sticky
	// (e.g. 0o4755); it is used as given.
	Mode int64
	// UID and GID own the entry.
	UID, GID int
	// Linkname is the target of a symlink or hardlink.
	Linkname string
	// Data is the content of a regular file.
	Data []byte
	// PAXRecords adds PAX extended header records, e.g. xattrs as
	// "SCHILY.xattr.user.key".
	PAXRecords map[string]string
	// Devmajor and Devminor describe character and block devices.
	Devmajor, Devminor int64
}

// header converts the entry with the fixed timestamp and no user or group
// names, so nothing about the building host leaks into the tarball.
func (e TarEntry) header() *tar.Header {
	typ := e.Type
	if typ == 0 {
		typ = tar.TypeReg
	}
	h := &tar.Header{
		Typeflag:   typ,
		Name:       e.Name,
		Linkname:   e.Linkname,
		Mode:       e.Mode,
		Uid:        e.UID,
		Gid:        e.GID,
		ModTime:    Epoch,
		Devmajor:   e.Devmajor,
		Devminor:   e.Devminor,
		PAXRecords: e.PAXRecords,
	}
	if typ == tar.TypeReg {
		h.Size = int64(len(e.Data))
	}
	if len(e.PAXRecords) > 0 {
		h.Format = tar.FormatPAX
	}
	return h
}

// writeTar serialises entries in the order given.
func writeTar(entries []TarEntry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(e.header()); err != nil {
			return nil, fmt.Errorf("tar header for %q: %w", e.Name, err)
		}
		if len(e.Data) > 0 {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("tar data for %q: %w", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	return buf.Bytes(), nil
}

// Helpers for the well-formed entries the builder itself makes.

func regFile(name string, mode int64, data []byte) TarEntry {
	return TarEntry{Name: name, Type: tar.TypeReg, Mode: mode, Data: data}
}

func dirEntry(name string, mode int64) TarEntry {
	return TarEntry{Name: name, Type: tar.TypeDir, Mode: mode}
}

func symlink(name, target string) TarEntry {
	return TarEntry{Name: name, Type: tar.TypeSymlink, Mode: 0o777, Linkname: target}
}

// tree collects well-formed entries by path, adds the parent directories
// nobody listed and emits everything sorted by path, which puts every
// directory before its contents.
type tree map[string]TarEntry

func (t tree) add(entries ...TarEntry) {
	for _, e := range entries {
		e.Name = strings.Trim(e.Name, "/")
		t[e.Name] = e
	}
}

func (t tree) sorted() []TarEntry {
	for name := range t {
		for dir := parentDir(name); dir != ""; dir = parentDir(dir) {
			if _, ok := t[dir]; !ok {
				t[dir] = dirEntry(dir, 0o755)
			}
		}
	}
	names := make([]string, 0, len(t))
	for name := range t {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]TarEntry, 0, len(names))
	for _, name := range names {
		e := t[name]
		if e.Type == tar.TypeDir {
			e.Name += "/" // the usual spelling of directories in layers
		}
		out = append(out, e)
	}
	return out
}

func parentDir(name string) string {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return ""
	}
	return name[:i]
}

// with adds entries and returns the sorted result, for one-line layers.
func (t tree) with(entries ...TarEntry) []TarEntry {
	t.add(entries...)
	return t.sorted()
}
