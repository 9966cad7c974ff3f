// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where the cgroup hierarchies are mounted; a variable so
// tests could point it elsewhere.
var cgroupRoot = "/sys/fs/cgroup"

// readBundle reads what the monitor needs from a bundle's config.json: the
// container's linux.cgroupsPath in filesystem form, relative to a
// hierarchy's root ("" if it has none the monitor can find), and whether
// it lacks a PID namespace of its own (it joins one by path, or stays in
// the host's).
func readBundle(bundle string) (cgroup string, sharedPID bool, err error) {
	var spec struct {
		Linux *struct {
			CgroupsPath string `json:"cgroupsPath"`
			Namespaces  []struct {
				Type string `json:"type"`
				Path string `json:"path"`
			} `json:"namespaces"`
		} `json:"linux"`
	}
	if err := readJSON(filepath.Join(bundle, "config.json"), &spec); err != nil {
		return "", false, err
	}
	if spec.Linux == nil {
		return "", true, nil
	}
	sharedPID = true
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == "pid" && ns.Path == "" {
			sharedPID = false
		}
	}
	return cgroupDir(spec.Linux.CgroupsPath), sharedPID, nil
}

// cgroupDir maps a cgroupsPath to a directory: "/a/b" as is, and the
// systemd driver's "slice:prefix:name" to where systemd puts it,
// "a.slice/a-b.slice/prefix-name.scope".
func cgroupDir(p string) string {
	parts := strings.Split(p, ":")
	if len(parts) != 3 {
		return strings.TrimPrefix(p, "/")
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	var dir []string
	if slice != "-.slice" {
		// Each dash-separated prefix of a slice name is a parent slice.
		base := strings.TrimSuffix(slice, ".slice")
		for i := range base {
			if base[i] == '-' {
				dir = append(dir, base[:i]+".slice")
			}
		}
		dir = append(dir, slice)
	}
	unit := name
	if !strings.HasSuffix(name, ".slice") {
		if prefix != "" {
			unit = prefix + "-" + name
		}
		unit += ".scope"
	}
	return filepath.Join(append(dir, unit)...)
}

// oomKills returns how many processes the OOM killer killed in the
// container's memory cgroup: memory.events on cgroup v2, the oom_kill line
// of memory.oom_control on v1. It must be read before runc delete removes
// the cgroup; an unreadable counter counts as none.
func oomKills(cgroup string) int {
	if cgroup == "" {
		return 0
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		return counter(filepath.Join(cgroupRoot, cgroup, "memory.events"), "oom_kill")
	}
	return counter(filepath.Join(cgroupRoot, "memory", cgroup, "memory.oom_control"), "oom_kill")
}

// counter reads a "key value" line from a cgroup file.
func counter(path, key string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	return 0
}
