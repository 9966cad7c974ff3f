// SPDX-License-Identifier: Apache-2.0

// Package idmap makes idmapped mounts: detached copies of a directory whose
// files are seen through a user namespace's ID mappings. A user-namespaced
// pod's rootfs layers and volumes are mounted this way, so files owned by
// host root on disk are owned by the pod's root inside it.
package idmap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenUserns opens a user namespace (a /proc/<pid>/ns/user path) for
// idmapping. The caller closes the descriptor.
func OpenUserns(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open user namespace %s: %w", path, err)
	}
	return fd, nil
}

// Clone makes a detached copy of the directory at path (not of what is
// mounted below it) whose IDs are mapped through the user namespace userns.
// The copy lives as long as the returned descriptor, or as long as it is
// attached somewhere (Attach).
func Clone(path string, userns int) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.ENOSYS) {
			return -1, errors.New("open_tree(2) is not in this kernel (Linux 5.2+)")
		}
		return -1, fmt.Errorf("open_tree %s: %w", path, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(tree)
		switch {
		case errors.Is(err, unix.ENOSYS):
			return -1, errors.New("mount_setattr(2) is not in this kernel (Linux 5.12+)")
		case errors.Is(err, unix.EINVAL):
			return -1, fmt.Errorf("idmap %s: its filesystem cannot be idmapped (EINVAL)", path)
		}
		return -1, fmt.Errorf("idmap %s: %w", path, err)
	}
	return tree, nil
}

// Attach mounts a detached copy (from Clone) on target, an existing
// directory.
func Attach(tree int, target string) error {
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach idmapped mount on %s: %w", target, err)
	}
	return nil
}

// Layers mounts an idmapped copy of each directory in dirs on a fresh
// directory below under (made here, 0700), in order, and returns their
// paths: the lower layers an overlay mount can then be given. release
// unmounts them and removes under; an overlay made from them keeps its own
// references, so it is called as soon as that mount is done, and on
// failure. Nothing is left when an error is returned.
func Layers(dirs []string, userns int, under string) (_ []string, _ func() error, err error) {
	if err := os.Mkdir(under, 0o700); err != nil {
		return nil, nil, fmt.Errorf("idmapped layers: %w", err)
	}
	var paths []string
	release := func() error {
		var first error
		for _, p := range paths {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && first == nil {
				first = fmt.Errorf("unmount idmapped layer %s: %w", p, err)
			}
		}
		if first != nil {
			return first // never remove a directory that may still be mounted
		}
		if err := os.RemoveAll(under); err != nil {
			return fmt.Errorf("idmapped layers: %w", err)
		}
		return nil
	}
	defer func() {
		if err != nil {
			release()
		}
	}()
	for i, dir := range dirs {
		target := filepath.Join(under, strconv.Itoa(i))
		if err := os.Mkdir(target, 0o700); err != nil {
			return nil, nil, fmt.Errorf("idmapped layers: %w", err)
		}
		tree, err := Clone(dir, userns)
		if err != nil {
			return nil, nil, err
		}
		err = Attach(tree, target)
		unix.Close(tree)
		if err != nil {
			return nil, nil, err
		}
		paths = append(paths, target)
	}
	return paths, release, nil
}
