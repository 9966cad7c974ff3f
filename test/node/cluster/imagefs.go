// SPDX-License-Identifier: Apache-2.0

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// The kubelet's image garbage collection and disk eviction need the image
// filesystem's capacity from cAdvisor, which cannot map this VM's root
// disk ("invalid capacity 0 on image filesystem"). So podshim's root lives
// on a loop-mounted ext4 filesystem of its own, which cAdvisor does see:
// the image filesystem is then dedicated, as on many real nodes.

func (c *Cluster) imageFsDir() string { return filepath.Join(c.opts.Dir, "imagefs") }

func (c *Cluster) mountImageFs(ctx context.Context) error {
	if c.opts.ImageFsSize == 0 {
		return nil
	}
	img := filepath.Join(c.opts.Dir, "imagefs.ext4")
	f, err := os.Create(img)
	if err != nil {
		return err
	}
	// Sparse: the file takes only what is written to it.
	err = f.Truncate(c.opts.ImageFsSize)
	f.Close()
	if err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.ext4: %w: %s", err, out)
	}
	dir := c.imageFsDir()
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	// -o loop sets autoclear: the loop device goes with the unmount.
	if out, err := exec.CommandContext(ctx, "mount", "-o", "loop", img, dir).CombinedOutput(); err != nil {
		return fmt.Errorf("mount %s: %w: %s", img, err, out)
	}
	c.imageFsMounted = true
	return os.Chmod(dir, 0o711)
}

func (c *Cluster) unmountImageFs() {
	if !c.imageFsMounted {
		return
	}
	if err := unix.Unmount(c.imageFsDir(), 0); err != nil {
		// Busy (a process still holds a file there): detach it so the
		// loop device goes when the last user does.
		_ = unix.Unmount(c.imageFsDir(), unix.MNT_DETACH)
	}
	c.imageFsMounted = false
	_ = os.Remove(filepath.Join(c.opts.Dir, "imagefs.ext4"))
}

// ImageFs is the directory of the image filesystem podshim's root is on
// (empty without one). Tests may put files of their own beside podshim/.
func (c *Cluster) ImageFs() string {
	if c.opts.ImageFsSize == 0 {
		return ""
	}
	return c.imageFsDir()
}

// podshimDir holds podshim's root (and, on the image filesystem, nothing
// else of the cluster's).
func (c *Cluster) podshimRoot() string {
	if c.opts.ImageFsSize > 0 {
		return filepath.Join(c.imageFsDir(), "podshim")
	}
	return filepath.Join(c.opts.Dir, "podshim", "root")
}
