// SPDX-License-Identifier: Apache-2.0

package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/podshim/podshim/pkg/idmap"
)

// checkMounts tries, on the filesystem that will hold podshim's root, the
// mounts pods need: an overlay of two lower layers with a writable upper
// (every container's rootfs), and an idmapped mount of that filesystem
// (user-namespaced pods). A real mount answers what
// /proc/filesystems cannot: overlay on overlay, say, fails in a container.
func checkMounts(root string, hold []string) []Result {
	ovl := Result{Check: "overlayfs", Required: true, TurnsOff: "every container: image layers are mounted with overlayfs"}
	idm := Result{Check: "idmapped mounts", TurnsOff: "pods with hostUsers: false (their rootfs and volumes are idmapped)"}
	if !strings.Contains(readFile("/proc/filesystems"), "\toverlay\n") {
		ovl.Status, ovl.Detail = Missing, "overlay is not in /proc/filesystems (modprobe overlay)"
	}
	if os.Geteuid() != 0 {
		if ovl.Status == "" {
			ovl.Status, ovl.Detail = Unknown, "overlay is in /proc/filesystems; a test mount needs root"
		}
		idm.Status, idm.Detail = Unknown, "a test mount needs root"
		return []Result{ovl, idm}
	}
	dir := existingParent(root)
	fsName := filesystemName(dir)
	tmp, err := os.MkdirTemp(dir, ".podshim-doctor-")
	if err != nil {
		if ovl.Status == "" {
			ovl.Status, ovl.Detail = Unknown, err.Error()
		}
		idm.Status, idm.Detail = Unknown, err.Error()
		return []Result{ovl, idm}
	}
	defer os.RemoveAll(tmp)

	merged, err := mountOverlay(tmp)
	if merged != "" {
		defer unix.Unmount(merged, unix.MNT_DETACH)
	}
	if ovl.Status == "" {
		if err != nil {
			ovl.Status, ovl.Detail = Missing, fmt.Sprintf("overlay on %s (%s): %v", fsName, dir, err)
		} else {
			ovl.Status, ovl.Detail = OK, fmt.Sprintf("two lower layers and an upper mount on %s (%s)", fsName, dir)
		}
	}

	if len(hold) == 0 {
		idm.Status, idm.Detail = Unknown, "not tried"
		return []Result{ovl, idm}
	}
	// The layers are what gets idmapped (overlayfs itself cannot be; it
	// accepts idmapped layers since Linux 5.19), so the root's filesystem is
	// the one to try.
	if err := tryIdmap(tmp, hold); err != nil {
		idm.Status, idm.Detail = Missing, fmt.Sprintf("%s (%s): %v", fsName, dir, err)
	} else {
		idm.Status, idm.Detail = OK, fmt.Sprintf("%s (%s) can be idmapped", fsName, dir)
	}
	return []Result{ovl, idm}
}

// mountOverlay mounts tmp/merged from two lower layers and an upper, and
// writes a file through it.
func mountOverlay(tmp string) (string, error) {
	for _, d := range []string{"l1", "l2", "upper", "work", "merged"} {
		if err := os.Mkdir(filepath.Join(tmp, d), 0o755); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "l1", "a"), []byte("a"), 0o644); err != nil {
		return "", err
	}
	merged := filepath.Join(tmp, "merged")
	opts := fmt.Sprintf("lowerdir=%s:%s,upperdir=%s,workdir=%s",
		filepath.Join(tmp, "l2"), filepath.Join(tmp, "l1"), filepath.Join(tmp, "upper"), filepath.Join(tmp, "work"))
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		return "", fmt.Errorf("mount: %w", err)
	}
	if err := os.WriteFile(filepath.Join(merged, "a"), []byte("b"), 0o644); err != nil {
		return merged, fmt.Errorf("write through the overlay: %w", err)
	}
	return merged, nil
}

// tryIdmap makes a detached copy of the mount at path and idmaps it to a
// new user namespace (the one of a helper process started for it).
func tryIdmap(path string, hold []string) error {
	ns, err := idmap.Hold(hold, 100000, 65536)
	if err != nil {
		return err
	}
	defer ns.Close()
	tree, err := idmap.Clone(path, ns.Fd)
	if err != nil {
		return err
	}
	unix.Close(tree) // the detached copy goes with its last descriptor
	return nil
}

func existingParent(p string) string {
	p = filepath.Clean(p)
	for {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "/"
		}
		p = parent
	}
}

// filesystemName names the common filesystems by their statfs magic.
func filesystemName(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "unknown filesystem"
	}
	switch int64(st.Type) {
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlay"
	case 0x2fc12fc1:
		return "zfs"
	}
	return fmt.Sprintf("filesystem 0x%x", st.Type)
}

func readFile(p string) string {
	data, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return string(data)
}
