// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// maxSymlinks is the kernel's limit on symlinks followed in one lookup.
const maxSymlinks = 40

// resolveInside follows the directory path rel through the layer being
// built as the kernel would, and returns the symlink-free path it leads
// to. It refuses (naming entry) when the way leads out of the layer root:
// ".." above the root, or a symlink with an absolute target, which on the
// host points outside the layer whatever it means inside a container.
// Symlinks staying inside are followed, so a layer that writes through
// "lib -> usr/lib" lands where a container would see it.
//
// Every lookup is relative to the root handle, on a path whose directories
// were already found not to be symlinks, with the last element never
// followed; the kernel thus follows no symlink the walk did not check.
func (x *extractor) resolveInside(entry, rel string) (string, error) {
	rootFd := int(x.rootFile.Fd())
	var done []string
	todo := strings.Split(rel, "/")
	links := 0
	for len(todo) > 0 {
		elem := todo[0]
		todo = todo[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", errEscapes(entry)
			}
			done = done[:len(done)-1]
			continue
		}
		cur := path.Join(path.Join(done...), elem)
		var st unix.Stat_t
		err := unix.Fstatat(rootFd, cur, &st, unix.AT_SYMLINK_NOFOLLOW)
		if errors.Is(err, unix.ENOENT) {
			done = append(done, elem) // to be created as a directory
			continue
		}
		if err != nil {
			return "", fmt.Errorf("layer entry %q: %w", entry, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFLNK {
			done = append(done, elem)
			continue
		}
		if links++; links > maxSymlinks {
			return "", fmt.Errorf("layer entry %q: too many levels of symbolic links: %w", entry, ErrBadContent)
		}
		target, err := readlinkAt(rootFd, cur)
		if err != nil {
			return "", fmt.Errorf("layer entry %q: %w", entry, err)
		}
		if path.IsAbs(target) {
			return "", fmt.Errorf("layer entry %q escapes the layer root through symlink %q -> %q: %w", entry, cur, target, ErrBadContent)
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}
