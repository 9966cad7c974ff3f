// SPDX-License-Identifier: Apache-2.0

package container

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/opencontainers/cgroups/systemd"

	"github.com/podshim/podshim/sandbox"
)

// PodUsage is a pod's cgroup figures.
type PodUsage struct {
	Timestamp time.Time
	// OwnCgroup is set when the figures are the pod cgroup's (the kubelet
	// gave the pod a cgroup parent of its own, which holds the pause and
	// every container). Otherwise they are the pause's cgroup alone, and
	// the caller adds the containers' own.
	OwnCgroup bool
	// HasCgroup is false when the cgroup is gone (the pod is stopped).
	HasCgroup bool
	cgroupUsage
}

// PodUsage reads the pod's cgroup, or the pause's when the pod has none
// of its own.
func (m *Manager) PodUsage(pod *sandbox.Record) (PodUsage, error) {
	u := PodUsage{Timestamp: time.Now()}
	dir, own, err := podCgroupDir(m.opts.CgroupDriver, pod)
	if err != nil {
		return u, fmt.Errorf("stats of pod %s: %w", pod.ID, err)
	}
	u.OwnCgroup = own
	switch cg, err := m.cgroups.readCgroupUsage(dir); {
	case err == nil:
		u.cgroupUsage, u.HasCgroup = cg, true
	case notExist(err):
	default:
		return u, fmt.Errorf("stats of pod %s: cgroup %s: %w", pod.ID, dir, err)
	}
	return u, nil
}

// podCgroupDir finds the pod's cgroup below a hierarchy's root: the
// parent the kubelet chose (kubepods/<qos>/pod<uid>), whose subtree is the
// pod, when it chose one; else the pause's own cgroup, since the default
// parent is shared by every pod.
func podCgroupDir(driver string, pod *sandbox.Record) (string, bool, error) {
	if pod.Config.GetLinux().GetCgroupParent() == "" {
		dir, err := cgroupDir(driver, pod.CgroupsPath)
		return dir, false, err
	}
	if driver != "systemd" {
		return path.Dir(pod.CgroupsPath), true, nil
	}
	slice, _, ok := strings.Cut(pod.CgroupsPath, ":")
	if !ok {
		return "", false, fmt.Errorf("systemd cgroups path %q: want slice:prefix:name", pod.CgroupsPath)
	}
	dir, err := systemd.ExpandSlice(slice)
	return dir, true, err
}

// ContainerCgroup is a running container's cgroup path below a hierarchy's
// root, as cAdvisor names containers (its "id" label).
func (m *Manager) ContainerCgroup(r *Record) (string, error) {
	if dir, ok := m.cgroupDirs.Load(r.ID); ok {
		return dir.(string), nil
	}
	// Decoded once per container: a spec is kilobytes of JSON, and the
	// stats calls that need its cgroup come every few seconds for every
	// container. The cgroups path never changes after create.
	var spec struct {
		Linux *struct {
			CgroupsPath string `json:"cgroupsPath"`
		} `json:"linux"`
	}
	if err := json.Unmarshal(r.Spec, &spec); err != nil || spec.Linux == nil {
		return "", fmt.Errorf("cgroup of %s: stored spec: %v", r.ID, err)
	}
	dir, err := cgroupDir(m.opts.CgroupDriver, spec.Linux.CgroupsPath)
	if err != nil {
		return "", fmt.Errorf("cgroup of %s: %w", r.ID, err)
	}
	m.cgroupDirs.Store(r.ID, dir)
	return dir, nil
}

// Detail reads the figures only metrics need from the cgroup at dir
// (from ContainerCgroup); ok is false when the cgroup is gone.
func (m *Manager) Detail(dir string) (d CgroupDetail, ok bool, err error) {
	d, err = m.cgroups.readCgroupDetail(dir)
	if notExist(err) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	return d, true, nil
}
