// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Usage measures the image store on disk: the allocated bytes and the
// inodes of everything below Root (database, blobs, unpacked layers, and
// any pull in progress), counting each hard-linked inode once.
func (s *Store) Usage() (Usage, error) {
	u, err := dirUsage(s.root)
	if err != nil {
		return Usage{}, fmt.Errorf("image store usage: %w", err)
	}
	return u, nil
}

// dirUsage measures the allocated bytes and inodes below dir, counting each
// hard-linked inode once and never leaving dir's filesystem (a container's
// merged overlay mount must not count its image layers twice).
func dirUsage(dir string) (Usage, error) {
	type inode struct{ dev, ino uint64 }
	seen := map[inode]bool{}
	var bytes uint64
	var rootDev uint64
	if fi, err := os.Stat(dir); err == nil {
		rootDev = uint64(fi.Sys().(*syscall.Stat_t).Dev)
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// Entries vanish while a removal or a failed pull cleans up.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		if uint64(st.Dev) != rootDev {
			if d.IsDir() {
				return filepath.SkipDir // a mount point: another filesystem
			}
			return nil
		}
		key := inode{uint64(st.Dev), st.Ino}
		if !seen[key] {
			seen[key] = true
			bytes += uint64(st.Blocks) * 512 // st_blocks counts 512-byte units
		}
		return nil
	})
	if err != nil {
		return Usage{}, err
	}
	return Usage{Path: dir, UsedBytes: bytes, InodesUsed: uint64(len(seen))}, nil
}

// allocated is the disk space a file takes, as dirUsage counts it.
func allocated(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Blocks) * 512
	}
	return uint64(fi.Size())
}
