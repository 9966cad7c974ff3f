// SPDX-License-Identifier: Apache-2.0

package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// prepareImageVolumes gives each VOLUME of the image an anonymous volume,
// as containerd does: a directory of the container's own, bind mounted at
// the volume's path, seeded with what the image holds there. The
// container's writes to it go there rather than to its writable layer, and
// it goes away with the container. It returns volume path → host dir.
func (m *Manager) prepareImageVolumes(id, rootfs string, volumes []string) (map[string]string, error) {
	if len(volumes) == 0 {
		return nil, nil
	}
	base, err := m.images.VolumesDir(id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return nil, fmt.Errorf("image volumes: %w", err)
	}
	dirs := map[string]string{}
	for i, v := range volumes {
		dir := filepath.Join(base, strconv.Itoa(i))
		if err := seedVolume(rootfs, v, dir); err != nil {
			return nil, fmt.Errorf("image volume %s: %w", v, err)
		}
		dirs[v] = dir
	}
	return dirs, nil
}

// seedVolume makes dir a copy of what the image has at vol, or an empty
// directory when it has nothing there. The walk stays inside the rootfs:
// vol is resolved with securejoin, and below it no symlink is followed.
func seedVolume(rootfs, vol, dir string) error {
	src, err := securejoin.SecureJoin(rootfs, vol)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.Mkdir(dir, 0o755)
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%w: the image has a %s there, not a directory", ErrInvalid, fi.Mode().Type())
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		return copyEntry(p, filepath.Join(dir, rel), d)
	})
}

// copyEntry copies one directory entry with its mode and owner.
func copyEntry(src, dst string, d fs.DirEntry) error {
	fi, err := d.Info()
	if err != nil {
		return err
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return fmt.Errorf("%s: no ownership information", src)
	}
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		err = os.Mkdir(dst, 0o700)
	case mode.IsRegular():
		err = copyFile(src, dst)
	case mode&fs.ModeSymlink != 0:
		var target string
		if target, err = os.Readlink(src); err == nil {
			err = os.Symlink(target, dst)
		}
	default: // device nodes, FIFOs and sockets, as the image made them
		err = unix.Mknod(dst, st.Mode, int(st.Rdev))
	}
	if err != nil {
		return err
	}
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil {
		return err
	}
	if mode&fs.ModeSymlink != 0 {
		return nil
	}
	// After chown, which clears setuid and setgid bits.
	return unix.Chmod(dst, st.Mode&07777)
}

func copyFile(src, dst string) error {
	in, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
