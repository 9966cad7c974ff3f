// SPDX-License-Identifier: Apache-2.0

package container

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
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

// blockIOOf gathers the library's per-operation entries into one figure
// per device, in device order (v2's io.stat comes back as a map). The
// library lays v2's rbytes/wbytes and rios/wios out as v1's Read and Write
// entries; v1's Sync, Async, Discard and Total lines are left out.
func blockIOOf(st cgroups.BlkioStats) []BlockIO {
	devs := map[[2]uint64]*BlockIO{}
	add := func(entries []cgroups.BlkioStatEntry, read, write func(*BlockIO, uint64)) {
		for _, e := range entries {
			if e.Op != "Read" && e.Op != "Write" {
				continue
			}
			k := [2]uint64{e.Major, e.Minor}
			d := devs[k]
			if d == nil {
				d = &BlockIO{Major: e.Major, Minor: e.Minor}
				devs[k] = d
			}
			if e.Op == "Read" {
				read(d, e.Value)
			} else {
				write(d, e.Value)
			}
		}
	}
	add(st.IoServiceBytesRecursive, func(d *BlockIO, n uint64) { d.ReadBytes = n }, func(d *BlockIO, n uint64) { d.WriteBytes = n })
	add(st.IoServicedRecursive, func(d *BlockIO, n uint64) { d.Reads = n }, func(d *BlockIO, n uint64) { d.Writes = n })
	out := make([]BlockIO, 0, len(devs))
	for _, d := range devs {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b BlockIO) int {
		return cmp.Or(cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor))
	})
	return out
}

// countFDs counts the open file descriptors, and among them the sockets,
// of the processes pids (the library lists a cgroup's). A process that
// exits meanwhile is simply not counted.
func countFDs(pids []int) (fds, sockets uint64) {
	for _, pid := range pids {
		fdDir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
		ents, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			fds++
			if target, err := os.Readlink(filepath.Join(fdDir, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
				sockets++
			}
		}
	}
	return fds, sockets
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
