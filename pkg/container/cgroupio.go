// SPDX-License-Identifier: Apache-2.0

package container

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// BlockIO is one block device's I/O by a cgroup's subtree.
type BlockIO struct {
	Major, Minor          uint64
	ReadBytes, WriteBytes uint64
	Reads, Writes         uint64
}

// DeviceName is the device's /dev name, as cAdvisor labels it, or
// "major:minor" when sysfs does not name it.
func (b BlockIO) DeviceName() string {
	id := fmt.Sprintf("%d:%d", b.Major, b.Minor)
	data, err := os.ReadFile(filepath.Join("/sys/dev/block", id, "uevent"))
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(line, "DEVNAME="); ok {
				return "/dev/" + name
			}
		}
	}
	return id
}

func readBlockIO(path string, v2 bool) ([]BlockIO, error) {
	return readBlockIOAt(cgroupRoot, path, v2)
}

// readBlockIOAt reads v1's blkio.throttle.io_service{_bytes,d}_recursive
// or v2's io.stat; a cgroup without block I/O has no devices.
func readBlockIOAt(root, path string, v2 bool) ([]BlockIO, error) {
	devs := map[[2]uint64]*BlockIO{}
	var order [][2]uint64
	dev := func(id string) (*BlockIO, bool) {
		maj, min, ok := strings.Cut(id, ":")
		a, err1 := strconv.ParseUint(maj, 10, 64)
		b, err2 := strconv.ParseUint(min, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, false
		}
		k := [2]uint64{a, b}
		if devs[k] == nil {
			devs[k] = &BlockIO{Major: a, Minor: b}
			order = append(order, k)
		}
		return devs[k], true
	}
	if v2 {
		err := eachLine(filepath.Join(root, path, "io.stat"), func(f []string) {
			if len(f) < 2 {
				return
			}
			d, ok := dev(f[0])
			if !ok {
				return
			}
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(v, 10, 64)
				switch k {
				case "rbytes":
					d.ReadBytes = n
				case "wbytes":
					d.WriteBytes = n
				case "rios":
					d.Reads = n
				case "wios":
					d.Writes = n
				}
			}
		})
		if err != nil {
			return nil, err
		}
	} else {
		dir := filepath.Join(root, "blkio", path)
		for _, file := range []struct {
			name        string
			read, write func(*BlockIO, uint64)
		}{
			{"blkio.throttle.io_service_bytes_recursive", func(d *BlockIO, n uint64) { d.ReadBytes = n }, func(d *BlockIO, n uint64) { d.WriteBytes = n }},
			{"blkio.throttle.io_serviced_recursive", func(d *BlockIO, n uint64) { d.Reads = n }, func(d *BlockIO, n uint64) { d.Writes = n }},
		} {
			err := eachLine(filepath.Join(dir, file.name), func(f []string) {
				if len(f) != 3 || (f[1] != "Read" && f[1] != "Write") {
					return // "Total N", and the Sync/Async/Discard lines
				}
				d, ok := dev(f[0])
				n, err := strconv.ParseUint(f[2], 10, 64)
				if !ok || err != nil {
					return
				}
				if f[1] == "Read" {
					file.read(d, n)
				} else {
					file.write(d, n)
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	out := make([]BlockIO, 0, len(order))
	for _, k := range order {
		out = append(out, *devs[k])
	}
	return out, nil
}

func eachLine(path string, f func([]string)) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		f(strings.Fields(sc.Text()))
	}
	return sc.Err()
}

// countFDs counts the open file descriptors, and among them the sockets,
// of every process in the subtree under dir (its cgroup.procs files). A
// process that exits meanwhile is simply not counted.
func countFDs(dir string) (fds, sockets uint64, err error) {
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		err = eachLine(filepath.Join(p, "cgroup.procs"), func(f []string) {
			if len(f) != 1 {
				return
			}
			fdDir := filepath.Join("/proc", f[0], "fd")
			ents, err := os.ReadDir(fdDir)
			if err != nil {
				return
			}
			for _, e := range ents {
				fds++
				if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
					sockets++
				}
			}
		})
		if p != dir && errors.Is(err, fs.ErrNotExist) {
			return nil // a child cgroup removed meanwhile
		}
		return err
	})
	return fds, sockets, err
}

// FsCapacity is the filesystem a container's writable layer is on.
type FsCapacity struct {
	// Device names it as cAdvisor's "device" label does.
	Device                    string
	Bytes, Inodes, InodesFree uint64
}

// Filesystem reports the capacity of the filesystem holding path.
func Filesystem(path string) (FsCapacity, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return FsCapacity{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	var s unix.Stat_t
	if err := unix.Stat(path, &s); err != nil {
		return FsCapacity{}, fmt.Errorf("stat %s: %w", path, err)
	}
	dev := BlockIO{Major: uint64(unix.Major(s.Dev)), Minor: uint64(unix.Minor(s.Dev))}.DeviceName()
	return FsCapacity{Device: dev, Bytes: st.Blocks * uint64(st.Bsize), Inodes: st.Files, InodesFree: st.Ffree}, nil
}
