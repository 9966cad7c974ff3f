// SPDX-License-Identifier: Apache-2.0

package storage

// Creating each kind of tar entry. Every call works on a handle of the
// entry's parent directory (see openDir) and the entry's last path
// element, through *at system calls that never follow a symlink in that
// element.

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// makeRoom makes room for a new entry called base in parent: whatever is
// there goes, except a directory when keepDir is set (a directory listed
// again keeps its contents, as in any tar extraction).
func makeRoom(parent *os.File, base string, keepDir bool) (dirKept bool, err error) {
	var st unix.Stat_t
	err = unix.Fstatat(int(parent.Fd()), base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, unix.Unlinkat(int(parent.Fd()), base, 0)
	}
	if keepDir {
		return true, nil
	}
	// RemoveAll opens the magic link to the parent and then never follows
	// a symlink below it.
	return false, os.RemoveAll(procPath(parent, base))
}

// procPath names base inside the directory parent is a handle on, for the
// calls that have no *at form (xattrs, RemoveAll).
func procPath(parent *os.File, base string) string {
	return fmt.Sprintf("/proc/self/fd/%d/%s", parent.Fd(), base)
}

func (x *extractor) mkdir(parent *os.File, base string, hdr *tar.Header) error {
	kept, err := makeRoom(parent, base, true)
	if err != nil {
		return err
	}
	if !kept {
		if err := unix.Mkdirat(int(parent.Fd()), base, 0o700); err != nil {
			return err
		}
	}
	return setAttrs(parent, base, hdr, false)
}

func (x *extractor) writeFile(parent *os.File, base string, hdr *tar.Header, r io.Reader) error {
	if _, err := makeRoom(parent, base, false); err != nil {
		return err
	}
	fd, err := unix.Openat(int(parent.Fd()), base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	if err := x.copyContent(f, r); err != nil {
		f.Close()
		return err
	}
	// Owner before mode: chown clears the setuid and setgid bits.
	if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
		f.Close()
		return err
	}
	if err := unix.Fchmod(fd, entryMode(hdr)); err != nil {
		f.Close()
		return err
	}
	for name, value := range entryXattrs(hdr) {
		if err := xattrErr(name, unix.Fsetxattr(fd, name, []byte(value), 0)); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return setTimes(parent, base, hdr)
}

// copyContent copies an entry's data, telling a bad stream (the layer's
// fault) from a failing write (the disk's).
func (x *extractor) copyContent(f *os.File, r io.Reader) error {
	for {
		n, rerr := r.Read(x.buf)
		if n > 0 {
			if _, werr := f.Write(x.buf[:n]); werr != nil {
				return werr
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return asBadContent(rerr)
		}
	}
}

func (x *extractor) symlink(parent *os.File, base string, hdr *tar.Header) error {
	if _, err := makeRoom(parent, base, false); err != nil {
		return err
	}
	// A symlink's target is stored as given: it is only ever followed
	// inside the container's root, and never by this extractor.
	if err := unix.Symlinkat(hdr.Linkname, int(parent.Fd()), base); err != nil {
		return err
	}
	return setAttrs(parent, base, hdr, true)
}

func (x *extractor) hardlink(parent *os.File, resolved, base string, hdr *tar.Header) error {
	target, err := entryPath(hdr.Linkname, hdr.Name)
	if err != nil {
		return err
	}
	if target == "." {
		return fmt.Errorf("hardlink to the layer root: %w", ErrBadContent)
	}
	targetParentRel, targetBase := splitEntry(target)
	targetParentResolved, err := x.resolveInside(hdr.Name, targetParentRel)
	if err != nil {
		return err
	}
	if path.Join(targetParentResolved, targetBase) == resolved {
		return nil // a link to itself: the file is already there
	}
	targetParent, err := pathrs.OpenatInRoot(x.rootFile, targetParentResolved)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w: %w", hdr.Linkname, ErrBadContent, err)
	}
	defer targetParent.Close()
	if _, err := makeRoom(parent, base, false); err != nil {
		return err
	}
	// Flags 0: a target that is a symlink is linked itself, not followed.
	err = unix.Linkat(int(targetParent.Fd()), targetBase, int(parent.Fd()), base, 0)
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("hardlink target %q is not in the layer: %w", hdr.Linkname, ErrBadContent)
	}
	return err
}

func (x *extractor) mknod(parent *os.File, base string, hdr *tar.Header) error {
	if _, err := makeRoom(parent, base, false); err != nil {
		return err
	}
	kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if err := unix.Mknodat(int(parent.Fd()), base, kind|entryMode(hdr), int(dev)); err != nil {
		return err
	}
	return setAttrs(parent, base, hdr, false)
}
