// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// extractor writes the entries of one layer tar below root, a fresh
// directory of the store's own. Every entry is created relative to a
// handle on its parent directory, which is found by resolveInside (which
// refuses any path that leads out of root) and opened by securejoin's
// pathrs, which cannot leave root even if the tree changed meanwhile. So
// nothing is ever written outside root, whatever the tar contains.
type extractor struct {
	root     string
	rootFile *os.File // O_PATH handle on root
	rootHdr  *tar.Header
	// dirTimes are applied last, since creating entries inside a
	// directory changes its mtime. Keyed by the directory's resolved path.
	dirTimes map[string]*tar.Header
	buf      []byte
}

// extractTar unpacks a layer tar stream into root, converting whiteouts to
// overlay form; a stream of more than maxEntries entries is refused.
func extractTar(ctx context.Context, r io.Reader, root string, maxEntries int64) error {
	rootFile, err := os.OpenFile(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer rootFile.Close()
	x := &extractor{root: root, rootFile: rootFile, dirTimes: map[string]*tar.Header{}, buf: make([]byte, 128<<10)}
	tr := tar.NewReader(r)
	for entries := int64(0); ; entries++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if entries > maxEntries {
			return fmt.Errorf("layer holds more than %d entries: %w", maxEntries, ErrBadContent)
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		// archive/tar may flag names it deems insecure; this extractor
		// judges every name itself, more strictly, below.
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return fmt.Errorf("read layer tar: %w", asBadContent(err))
		}
		if err := x.extract(hdr, tr); err != nil {
			return err
		}
	}
	return x.finish()
}

// asBadContent marks an error of reading the layer as the layer's fault,
// unless it already carries a kind.
func asBadContent(err error) error {
	if kindOf(err) != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrBadContent, err)
}

func (x *extractor) extract(hdr *tar.Header, r io.Reader) error {
	rel, err := entryPath(hdr.Name, hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		if hdr.Typeflag != tar.TypeDir {
			return fmt.Errorf("layer entry %q would replace the layer root: %w", hdr.Name, ErrBadContent)
		}
		x.rootHdr = hdr
		return nil
	}
	parentRel, base := splitEntry(rel)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return x.whiteout(hdr, parentRel, base)
	}
	parent, parentResolved, err := x.openDir(hdr.Name, parentRel)
	if err != nil {
		return err
	}
	defer parent.Close()

	switch hdr.Typeflag {
	case tar.TypeDir:
		err = x.mkdir(parent, base, hdr)
		if err == nil {
			x.dirTimes[path.Join(parentResolved, base)] = hdr
		}
	case tar.TypeReg:
		err = x.writeFile(parent, base, hdr, r)
	case tar.TypeSymlink:
		err = x.symlink(parent, base, hdr)
	case tar.TypeLink:
		err = x.hardlink(parent, path.Join(parentResolved, base), base, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		err = x.mknod(parent, base, hdr)
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("layer entry %q has unsupported type %q: %w", hdr.Name, hdr.Typeflag, ErrBadContent)
	}
	if err != nil {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

// entryPath cleans a tar name (or hardlink target) into a path relative to
// the layer root: "." for the root itself. Absolute names count from the
// layer root, as every runtime takes them; names that climb out with ".."
// are refused, naming entry.
func entryPath(name, entry string) (string, error) {
	rel := strings.TrimLeft(name, "/")
	if rel == "" {
		return ".", nil
	}
	clean := path.Clean(rel)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", errEscapes(entry)
	}
	return clean, nil
}

func errEscapes(entry string) error {
	return fmt.Errorf("layer entry %q escapes the layer root: %w", entry, ErrBadContent)
}

// splitEntry splits a cleaned relative path into its parent ("." at the
// top) and its last element.
func splitEntry(rel string) (string, string) {
	dir, base := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// openDir returns a handle on directory rel, creating it (mode 0755, as
// Docker does for directories a tar implies but does not list) if
// missing, and its symlink-free path.
func (x *extractor) openDir(entry, rel string) (*os.File, string, error) {
	resolved, err := x.resolveInside(entry, rel)
	if err != nil {
		return nil, "", err
	}
	dir, err := pathrs.MkdirAllHandle(x.rootFile, resolved, 0o755)
	if err != nil {
		return nil, "", fmt.Errorf("layer entry %q: parent directory: %w", entry, err)
	}
	return dir, resolved, nil
}

// finish applies what must come after all entries: directory times, and
// the attributes of the layer root itself.
func (x *extractor) finish() error {
	for dir, hdr := range x.dirTimes {
		// Re-resolve: a later entry may have replaced a directory on the
		// way with a symlink; one that now leads out is skipped.
		resolved, err := x.resolveInside(dir, dir)
		if err != nil {
			continue
		}
		parentRel, base := splitEntry(resolved)
		parent, err := pathrs.OpenatInRoot(x.rootFile, parentRel)
		if err != nil {
			continue
		}
		err = setTimes(parent, base, hdr)
		parent.Close()
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("layer directory %q: %w", dir, err)
		}
	}
	if x.rootHdr == nil {
		return nil
	}
	hdr := x.rootHdr
	if err := unix.Lchown(x.root, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("layer root: %w", err)
	}
	if err := unix.Chmod(x.root, entryMode(hdr)); err != nil {
		return fmt.Errorf("layer root: %w", err)
	}
	for name, value := range entryXattrs(hdr) {
		if err := xattrErr(name, unix.Lsetxattr(x.root, name, []byte(value), 0)); err != nil {
			return fmt.Errorf("layer root: %w", err)
		}
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, x.root, entryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("layer root: %w", err)
	}
	return nil
}
