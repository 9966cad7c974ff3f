// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deviceOf describes the device node at path, or reports that it is none.
func deviceOf(path string) (specs.LinuxDevice, bool, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return specs.LinuxDevice{}, false, err
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, false, nil
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: path, Type: typ,
		Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, true, nil
}

// hostDevices resolves a CRI device's host path: one device node, or every
// node below a directory.
func hostDevices(path string) ([]specs.LinuxDevice, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("device %s: %w", path, err)
	}
	if !fi.IsDir() {
		d, ok, err := deviceOf(path)
		if err != nil {
			return nil, fmt.Errorf("device %s: %w", path, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s is not a device node", path)
		}
		return []specs.LinuxDevice{d}, nil
	}
	var out []specs.LinuxDevice
	err = filepath.WalkDir(path, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if d, ok, err := deviceOf(p); err == nil && ok {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// privilegedDevices lists the host's device nodes for privileged
// containers, leaving out what every container gets its own of.
func privilegedDevices() ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	err := filepath.WalkDir("/dev", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if e.IsDir() {
			switch p {
			case "/dev/pts", "/dev/shm", "/dev/mqueue":
				return filepath.SkipDir
			}
			return nil
		}
		if p == "/dev/console" || strings.HasPrefix(p, "/dev/.") {
			return nil
		}
		if d, ok, err := deviceOf(p); err == nil && ok {
			out = append(out, d)
		}
		return nil
	})
	return out, err
}
