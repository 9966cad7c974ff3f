// SPDX-License-Identifier: Apache-2.0

package container

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/cgroups"
	cgroupsv1 "github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
)

// cgroupRead is one reading of a cgroup by the library's own managers
// (cgroups/fs on v1, cgroups/fs2 on v2), the ones runc applies limits with.
type cgroupRead struct {
	v2    bool
	stats *cgroups.Stats
	// dirs is the cgroup's directory per v1 controller read; on v2 the
	// one directory is under "".
	dirs map[string]string
}

// dir is the directory of the cgroup in a controller's hierarchy (v2:
// the one directory).
func (r cgroupRead) dir(controller string) string {
	if r.v2 {
		return r.dirs[""]
	}
	return r.dirs[controller]
}

// read reads the controllers in which of the cgroup at rel (a path below
// the hierarchy's root). A cgroup that is not there, or that went away
// while it was read, is fs.ErrNotExist: the library itself reads a missing
// file as no figures, which would come out as zeros.
func (h hierarchy) read(rel string, which cgroups.Controller) (cgroupRead, error) {
	if h.v2 {
		return h.readV2(rel, which)
	}
	return h.readV1(rel, which)
}

func (h hierarchy) readV2(rel string, which cgroups.Controller) (cgroupRead, error) {
	dir := filepath.Join(h.unified, rel)
	r := cgroupRead{v2: true, dirs: map[string]string{"": dir}}
	if !cgroups.PathExists(dir) {
		return r, fs.ErrNotExist
	}
	data, err := cgroups.ReadFile(dir, "cgroup.controllers")
	if err != nil {
		return r, gone(err, dir)
	}
	enabled := strings.Fields(data)
	// Without the memory controller memory.stat is missing, and the
	// library would report no memory at all rather than fail.
	if which&cgroups.Memory != 0 && !slices.Contains(enabled, "memory") {
		return r, fmt.Errorf("%s: memory controller not enabled", dir)
	}
	countPids := which&cgroups.Pids != 0 && !slices.Contains(enabled, "pids")
	if countPids {
		which &^= cgroups.Pids
	}
	m, err := fs2.NewManager(&cgroups.Cgroup{Resources: &cgroups.Resources{}}, dir)
	if err != nil {
		return r, err
	}
	if r.stats, err = m.Stats(&cgroups.StatsOptions{Controllers: which}); err != nil {
		return r, gone(err, dir)
	}
	if countPids {
		err = r.countPids(dir)
	}
	return r, gone(err, dir)
}

func (h hierarchy) readV1(rel string, which cgroups.Controller) (cgroupRead, error) {
	all, err := h.v1Dirs(rel)
	if err != nil {
		return cgroupRead{}, err
	}
	r := cgroupRead{dirs: map[string]string{}}
	for c, dir := range all {
		switch {
		case cgroups.PathExists(dir):
			r.dirs[c] = dir
		case c == "memory" || c == "cpuacct":
			// runc makes the cgroup in every hierarchy, so one
			// missing here means the container is gone.
			return r, fs.ErrNotExist
		}
		// A controller mounted after the container started has no
		// directory for it; its figures are not read.
	}
	countPids := which&cgroups.Pids != 0 && r.dirs["pids"] == ""
	m, err := cgroupsv1.NewManager(&cgroups.Cgroup{Resources: &cgroups.Resources{}}, r.dirs)
	if err != nil {
		return r, err
	}
	memDir := r.dirs["memory"]
	if r.stats, err = m.Stats(&cgroups.StatsOptions{Controllers: which}); err != nil {
		return r, gone(err, memDir)
	}
	if countPids {
		err = r.countPids(r.dirs["cpuacct"])
	}
	return r, gone(err, memDir)
}

// countPids stands in for pids.current where the pids controller is
// missing (see countProcs).
func (r cgroupRead) countPids(dir string) error {
	n, err := countProcs(dir)
	r.stats.PidsStats.Current = n
	return err
}

func notExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// gone turns a failed read of a cgroup that has since been removed (its
// last process exited meanwhile) into fs.ErrNotExist, and a read that
// succeeded only because its files had vanished likewise. A file missing
// from a cgroup that is still there is a plain error: the cgroup is not
// gone, it lacks a figure.
func gone(err error, dir string) error {
	if !cgroups.PathExists(dir) {
		return fs.ErrNotExist
	}
	if err != nil && notExist(err) {
		return fmt.Errorf("cgroup %s is there but a file of it is missing: %v", dir, err)
	}
	return err
}
