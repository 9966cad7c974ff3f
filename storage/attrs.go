// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"archive/tar"
	"errors"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// paxXattrPrefix marks extended attributes in PAX headers, as GNU tar and
// Docker write them.
const paxXattrPrefix = "SCHILY.xattr."

// entryMode is the permission part of a tar mode, with the setuid, setgid
// and sticky bits, which sit at the same positions in tar and in Linux.
func entryMode(hdr *tar.Header) uint32 {
	return uint32(hdr.Mode) & 0o7777
}

// entryXattrs returns the extended attributes of an entry, except those
// that steer overlayfs: a layer must not mark directories opaque or
// redirect lookups except through the whiteouts this store converts.
func entryXattrs(hdr *tar.Header) map[string]string {
	out := map[string]string{}
	for key, value := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(key, paxXattrPrefix)
		if !ok {
			continue
		}
		if strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.") {
			klog.V(2).InfoS("Ignoring overlay xattr in layer entry", "entry", hdr.Name, "xattr", name)
			continue
		}
		out[name] = value
	}
	return out
}

// xattrErr drops the error of a filesystem that does not support an xattr
// namespace: the file is still usable, as it is with Docker.
func xattrErr(name string, err error) error {
	if errors.Is(err, unix.ENOTSUP) {
		klog.V(2).InfoS("Filesystem does not support xattr; skipped", "xattr", name)
		return nil
	}
	return err
}

// entryTimes is the atime/mtime pair utimensat takes; a zero time becomes
// the epoch, which every filesystem can store.
func entryTimes(hdr *tar.Header) []unix.Timespec {
	mtime := hdr.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = mtime
	}
	return []unix.Timespec{
		{Sec: atime.Unix(), Nsec: int64(atime.Nanosecond())},
		{Sec: mtime.Unix(), Nsec: int64(mtime.Nanosecond())},
	}
}

// setAttrs gives the entry base in parent its owner, mode (not for
// symlinks, which have none), xattrs and, except for directories (done at
// the end), times. Nothing here follows a symlink.
func setAttrs(parent *os.File, base string, hdr *tar.Header, symlink bool) error {
	pfd := int(parent.Fd())
	if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if !symlink {
		// fchmodat follows a symlink, but base was just created here and
		// is not one.
		if err := unix.Fchmodat(pfd, base, entryMode(hdr), 0); err != nil {
			return err
		}
	}
	for name, value := range entryXattrs(hdr) {
		if symlink && strings.HasPrefix(name, "user.") {
			continue // Linux keeps user.* xattrs off symlinks
		}
		if err := xattrErr(name, unix.Lsetxattr(procPath(parent, base), name, []byte(value), 0)); err != nil {
			return err
		}
	}
	if hdr.Typeflag == tar.TypeDir {
		return nil
	}
	return setTimes(parent, base, hdr)
}

func setTimes(parent *os.File, base string, hdr *tar.Header) error {
	return unix.UtimesNanoAt(int(parent.Fd()), base, entryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW)
}
