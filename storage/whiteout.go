// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"archive/tar"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// Layer tars mark deletions the AUFS way; overlayfs wants them otherwise.
const (
	whiteoutPrefix = ".wh."
	// whiteoutMeta prefixes AUFS bookkeeping entries other than the opaque
	// marker; they carry nothing overlayfs needs.
	whiteoutMeta   = ".wh..wh."
	opaqueWhiteout = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// whiteout converts a whiteout entry: ".wh.<name>" becomes a character
// device 0:0 called <name> (overlayfs hides <name> of lower layers), and
// ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory
// (overlayfs hides the lower layers' contents of that directory).
func (x *extractor) whiteout(hdr *tar.Header, parentRel, base string) error {
	if base == opaqueWhiteout {
		dir, _, err := x.openDir(hdr.Name, parentRel)
		if err != nil {
			return err
		}
		defer dir.Close()
		if err := unix.Fsetxattr(int(dir.Fd()), opaqueXattr, []byte("y"), 0); err != nil {
			return fmt.Errorf("layer entry %q: mark directory opaque: %w", hdr.Name, err)
		}
		return nil
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		klog.V(2).InfoS("Skipping AUFS metadata entry", "entry", hdr.Name)
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("layer entry %q is not a valid whiteout: %w", hdr.Name, ErrBadContent)
	}
	parent, _, err := x.openDir(hdr.Name, parentRel)
	if err != nil {
		return err
	}
	defer parent.Close()
	if _, err := makeRoom(parent, name, false); err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	if err := unix.Mknodat(int(parent.Fd()), name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("layer entry %q: whiteout device: %w", hdr.Name, err)
	}
	if err := unix.Fchownat(int(parent.Fd()), name, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}
