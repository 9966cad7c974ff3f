// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"archive/tar"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// pullLayer pulls a one-layer image made of entries and returns its layer
// directory.
func pullLayer(t *testing.T, entries ...tarEntry) string {
	t.Helper()
	reg := newTestRegistry(t)
	ref := reg.push("layer", "1", buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, entries...)))
	s := newTestStore(t, Options{})
	img, err := s.Pull(context.Background(), ref, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	dirs, err := s.LayerDirs(img.ID)
	if err != nil {
		t.Fatal(err)
	}
	return dirs[0]
}

func lstat(t *testing.T, p string) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return st
}

func TestUnpackConvertsWhiteoutsToOverlayForm(t *testing.T) {
	root := pullLayer(t,
		dir("etc/"),
		tarEntry{name: "etc/.wh.passwd", typ: tar.TypeReg, mode: 0o644},
		dir("opt/"),
		tarEntry{name: "opt/.wh..wh..opq", typ: tar.TypeReg, mode: 0o644},
		file("opt/kept", "new"),
		// A whiteout in a directory the tar does not list, and one at the
		// top.
		tarEntry{name: "var/cache/.wh.apt", typ: tar.TypeReg, mode: 0o644},
		tarEntry{name: "./.wh.gone", typ: tar.TypeReg, mode: 0o644},
	)
	for _, p := range []string{"etc/passwd", "var/cache/apt", "gone"} {
		st := lstat(t, filepath.Join(root, p))
		if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
			t.Errorf("%s: mode %o rdev %d, want a 0:0 character device", p, st.Mode, st.Rdev)
		}
	}
	buf := make([]byte, 8)
	n, err := unix.Lgetxattr(filepath.Join(root, "opt"), opaqueXattr, buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opt: %s = %q, %v; want y", opaqueXattr, buf[:n], err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "opt/kept")); err != nil || string(b) != "new" {
		t.Errorf("opt/kept = %q, %v", b, err)
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if strings.HasPrefix(d.Name(), whiteoutPrefix) {
			t.Errorf("whiteout entry %s left as is", p)
		}
		return nil
	})
}

func TestUnpackPreservesMetadata(t *testing.T) {
	root := pullLayer(t,
		tarEntry{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		tarEntry{name: "bin/su", typ: tar.TypeReg, body: "suid", mode: 0o4755, uid: 0, gid: 0},
		tarEntry{name: "bin/wall", typ: tar.TypeReg, body: "sgid", mode: 0o2755, uid: 0, gid: 5},
		tarEntry{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		tarEntry{name: "home/user/", typ: tar.TypeDir, mode: 0o700, uid: 1000, gid: 1000},
		tarEntry{name: "home/user/notes", typ: tar.TypeReg, body: "hi", mode: 0o640, uid: 1000, gid: 1001,
			xattrs: map[string]string{"user.comment": "kept"}},
		symlink("bin/sh", "busybox"),
		tarEntry{name: "bin/busybox", typ: tar.TypeReg, body: "bb", mode: 0o755},
		hardlink("bin/ls", "bin/busybox"),
		tarEntry{name: "dev/null", typ: tar.TypeChar, mode: 0o666, major: 1, minor: 3},
		tarEntry{name: "run/fifo", typ: tar.TypeFifo, mode: 0o600},
		// Absolute names count from the layer root.
		file("/abs/file", "abs"),
	)
	check := func(p string, wantMode uint32, uid, gid uint32) unix.Stat_t {
		t.Helper()
		st := lstat(t, filepath.Join(root, p))
		if st.Mode&0o7777 != wantMode || st.Uid != uid || st.Gid != gid {
			t.Errorf("%s: mode %o uid %d gid %d; want %o %d %d", p, st.Mode&0o7777, st.Uid, st.Gid, wantMode, uid, gid)
		}
		return st
	}
	check("bin/su", 0o4755, 0, 0)
	check("bin/wall", 0o2755, 0, 5)
	check("tmp", 0o1777, 0, 0)
	check("home/user", 0o700, 1000, 1000)
	notes := check("home/user/notes", 0o640, 1000, 1001)
	if notes.Mtim.Sec != testMtime.Unix() {
		t.Errorf("notes mtime = %d, want %d", notes.Mtim.Sec, testMtime.Unix())
	}
	if st := lstat(t, filepath.Join(root, "home/user")); st.Mtim.Sec != testMtime.Unix() {
		t.Errorf("directory mtime = %d, want %d (set after its contents)", st.Mtim.Sec, testMtime.Unix())
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(filepath.Join(root, "home/user/notes"), "user.comment", buf); err != nil || string(buf[:n]) != "kept" {
		t.Errorf("xattr user.comment = %q, %v", buf[:n], err)
	}
	if target, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || target != "busybox" {
		t.Errorf("bin/sh -> %q, %v", target, err)
	}
	if a, b := lstat(t, filepath.Join(root, "bin/ls")), lstat(t, filepath.Join(root, "bin/busybox")); a.Ino != b.Ino {
		t.Errorf("bin/ls is not a hard link of bin/busybox")
	}
	if st := lstat(t, filepath.Join(root, "dev/null")); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Errorf("dev/null: mode %o rdev %d", st.Mode, st.Rdev)
	}
	if st := lstat(t, filepath.Join(root, "run/fifo")); st.Mode&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("run/fifo: mode %o", st.Mode)
	}
	if b, err := os.ReadFile(filepath.Join(root, "abs/file")); err != nil || string(b) != "abs" {
		t.Errorf("abs/file = %q, %v", b, err)
	}
}

func TestUnpackIgnoresOverlayXattrsFromTheLayer(t *testing.T) {
	root := pullLayer(t, tarEntry{name: "d/", typ: tar.TypeDir, mode: 0o755, xattrs: map[string]string{"trusted.overlay.opaque": "y"}})
	if _, err := unix.Lgetxattr(filepath.Join(root, "d"), opaqueXattr, make([]byte, 8)); err == nil {
		t.Errorf("a layer set %s through a PAX xattr", opaqueXattr)
	}
}

func TestUnpackFollowsSymlinksThatStayInside(t *testing.T) {
	root := pullLayer(t, dir("usr/lib/"), symlink("lib", "usr/lib"), file("lib/libc.so", "c"))
	if b, err := os.ReadFile(filepath.Join(root, "usr/lib/libc.so")); err != nil || string(b) != "c" {
		t.Errorf("usr/lib/libc.so = %q, %v", b, err)
	}
}

func TestMaliciousLayersAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries func(outside string) []tarEntry
	}{
		{"dot-dot", func(string) []tarEntry {
			return []tarEntry{file("../../../evil", "x")}
		}},
		{"dot-dot inside the name", func(string) []tarEntry {
			return []tarEntry{dir("a/"), file("a/../../../../evil", "x")}
		}},
		{"absolute symlink then write through it", func(outside string) []tarEntry {
			return []tarEntry{symlink("link", outside), file("link/evil", "x")}
		}},
		{"relative symlink climbing out then write through it", func(string) []tarEntry {
			// From Root/layers/.tmp-*/ three levels up is the test's
			// parent directory, where outside/ is.
			return []tarEntry{symlink("link", "../../../outside"), file("link/evil", "x")}
		}},
		{"symlink chain", func(outside string) []tarEntry {
			return []tarEntry{dir("a/"), symlink("a/b", "../c"), symlink("c", outside), file("a/b/evil", "x")}
		}},
		{"hardlink to ../../etc/passwd", func(string) []tarEntry {
			return []tarEntry{hardlink("evil", "../../etc/passwd")}
		}},
		{"hardlink through a symlinked directory", func(outside string) []tarEntry {
			return []tarEntry{symlink("out", outside), hardlink("evil", "out/secret")}
		}},
		{"whiteout through a symlink", func(outside string) []tarEntry {
			return []tarEntry{symlink("link", outside), {name: "link/.wh.secret", typ: tar.TypeReg}}
		}},
		{"opaque marker through a symlink", func(outside string) []tarEntry {
			return []tarEntry{symlink("link", outside), {name: "link/.wh..wh..opq", typ: tar.TypeReg}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
				t.Fatal(err)
			}
			reg := newTestRegistry(t)
			ref := reg.push("evil", "1", buildImage(t, imageOpts{format: "oci"}, gzipLayer(t, tc.entries(outside)...)))
			s := newTestStore(t, Options{Root: filepath.Join(parent, "root")})

			_, err := s.Pull(context.Background(), ref, nil)
			if !errors.Is(err, ErrBadContent) || !strings.Contains(err.Error(), "escapes the layer root") {
				t.Fatalf("Pull = %v, want ErrBadContent: ... escapes the layer root", err)
			}
			// Nothing named evil anywhere, the secret untouched, no
			// layer (final or temporary) left.
			filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Name() == "evil" {
					t.Errorf("%s was written", p)
				}
				return nil
			})
			if st := lstat(t, filepath.Join(outside, "secret")); st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
				t.Errorf("outside/secret was changed: mode %o nlink %d", st.Mode, st.Nlink)
			}
			if _, err := unix.Lgetxattr(outside, opaqueXattr, make([]byte, 8)); err == nil {
				t.Errorf("outside was marked opaque")
			}
			assertNoContent(t, s)
		})
	}
}
