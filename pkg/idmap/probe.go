// SPDX-License-Identifier: Apache-2.0

package idmap

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// probeHostID is where the probe's namespace maps root: any unused range.
const probeHostID, probeSize = 100000, 65536

// ProbeOverlay tells whether an overlay with idmapped lower layers can be
// made in dir (on the filesystem the image layers live on) and written
// through, which a user-namespaced pod's rootfs needs. argv holds the
// probe's user namespace (see Hold). It leaves nothing in dir.
func ProbeOverlay(dir string, argv []string) error {
	tmp, err := os.MkdirTemp(dir, ".idmap-probe-")
	if err != nil {
		return fmt.Errorf("idmap probe: %w", err)
	}
	defer os.RemoveAll(tmp)
	lower, upper, work, merged := filepath.Join(tmp, "lower"), filepath.Join(tmp, "upper"), filepath.Join(tmp, "work"), filepath.Join(tmp, "merged")
	for _, d := range []string{lower, upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("idmap probe: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(lower, "f"), []byte("x"), 0o644); err != nil {
		return fmt.Errorf("idmap probe: %w", err)
	}
	ns, err := Hold(argv, probeHostID, probeSize)
	if err != nil {
		return err
	}
	defer ns.Close()
	layers, release, err := Layers([]string{lower}, ns.Fd, filepath.Join(tmp, "l"))
	if err != nil {
		return err
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", layers[0], upper, work)
	err = unix.Mount("overlay", merged, "overlay", 0, opts)
	if rerr := release(); rerr != nil && err == nil {
		unix.Unmount(merged, unix.MNT_DETACH)
		return rerr
	}
	if err != nil {
		return fmt.Errorf("overlay on an idmapped layer: %w", err)
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	// The file, root's on disk, is seen through the mapping: owned by the
	// namespace's root, probeHostID on the host.
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(merged, "f"), &st); err != nil {
		return fmt.Errorf("overlay on an idmapped layer: %w", err)
	}
	if st.Uid != probeHostID {
		return fmt.Errorf("overlay on an idmapped layer shows a root-owned file as uid %d, not %d", st.Uid, probeHostID)
	}
	if err := os.WriteFile(filepath.Join(merged, "f"), []byte("y"), 0o644); err != nil {
		return fmt.Errorf("write through an overlay on an idmapped layer: %w", err)
	}
	return nil
}
