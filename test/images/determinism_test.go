// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"sort"
	"testing"
)

// TestBuildIsDeterministic builds everything twice from scratch (stand-ins
// compiled again in a fresh directory, host files read again) and expects
// identical digests.
func TestBuildIsDeterministic(t *testing.T) {
	digests := func() map[string]string {
		b, err := newBuilder()
		if err != nil {
			t.Fatalf("newBuilder: %v", err)
		}
		set, err := b.critestSet()
		if err != nil {
			t.Fatalf("critestSet: %v", err)
		}
		m := map[string]string{"base layer": b.base.digest.String()}
		for _, e := range set {
			for _, tag := range e.Tags {
				m[e.Repo+":"+tag] = mustDigest(t, e).String()
			}
		}
		return m
	}
	first, second := digests(), digests()
	if len(first) != len(second) {
		t.Fatalf("builds differ in size: %d vs %d entries", len(first), len(second))
	}
	for ref, d := range first {
		if second[ref] != d {
			t.Errorf("%s: %s then %s", ref, d, second[ref])
		}
	}
}

// TestLayersAreNormalised checks the properties determinism rests on: fixed
// timestamps, no owner names, entries in sorted order.
func TestLayersAreNormalised(t *testing.T) {
	b, err := sharedBuilder()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(b.base.uncompressed))
	var names []string
	modes := map[string]int64{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !hdr.ModTime.Equal(Epoch) || hdr.Uname != "" || hdr.Gname != "" || hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s: mtime %v owner %q/%q %d:%d", hdr.Name, hdr.ModTime, hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid)
		}
		names = append(names, hdr.Name)
		modes[hdr.Name] = hdr.Mode
		// A hard link's header must agree with its target: runtimes that
		// chmod a link to its header's mode would change the target too.
		if hdr.Typeflag == tar.TypeLink && hdr.Mode != modes[hdr.Linkname] {
			t.Errorf("hard link %s has mode %o, its target %s %o", hdr.Name, hdr.Mode, hdr.Linkname, modes[hdr.Linkname])
		}
	}
	if !sort.SliceIsSorted(names, func(i, j int) bool { return trimSlash(names[i]) < trimSlash(names[j]) }) {
		t.Error("base layer entries are not sorted")
	}
}

func trimSlash(s string) string {
	if len(s) > 0 && s[len(s)-1] == '/' {
		return s[:len(s)-1]
	}
	return s
}
