// SPDX-License-Identifier: Apache-2.0

package cluster

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// fence keeps every pod's traffic on the pod bridge: nothing from it is
// forwarded to any other interface. It also gives the node back the
// ip_forward setting it had (the bridge plugin turns forwarding on).
type fence struct {
	rule       []string
	bridge     string
	forwardWas []byte
}

func newFence(bridge string) (*fence, error) {
	f := &fence{rule: []string{"FORWARD", "-i", bridge, "!", "-o", bridge, "-j", "DROP"}, bridge: bridge}
	f.forwardWas, _ = os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if out, err := exec.Command("iptables", append([]string{"-w", "-I"}, f.rule...)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("iptables -I %v: %w: %s", f.rule, err, out)
	}
	return f, nil
}

func (f *fence) remove() {
	_ = exec.Command("iptables", append([]string{"-w", "-D"}, f.rule...)...).Run()
	_ = exec.Command("ip", "link", "del", f.bridge).Run()
	if len(f.forwardWas) > 0 {
		_ = os.WriteFile("/proc/sys/net/ipv4/ip_forward", f.forwardWas, 0o644)
	}
}

// mountPoints lists the mount points of this mount namespace.
func mountPoints() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 {
			out = append(out, unescapeMount(fields[4]))
		}
	}
	return out
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// unmountBelow detaches every mount below dir, deepest first: the kubelet's
// volume mounts and podshim's rootfs mounts that a failed test may leave.
func unmountBelow(dir string) {
	if dir == "" {
		return
	}
	var below []string
	for _, m := range mountPoints() {
		if strings.HasPrefix(m, dir+"/") {
			below = append(below, m)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(below)))
	for _, m := range below {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
}

// v1Hierarchies lists the mount points of the cgroup v1 hierarchies.
func v1Hierarchies() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		if fields := strings.Fields(post); len(fields) > 0 && fields[0] == "cgroup" {
			if pf := strings.Fields(pre); len(pf) > 4 {
				out = append(out, unescapeMount(pf[4]))
			}
		}
	}
	return out
}

// makeCgroupRoot creates the kubelet's cgroup root in every hierarchy (the
// kubelet requires it to exist). On v2 it is one directory.
func makeCgroupRoot(root string) error {
	hier := v1Hierarchies()
	if len(hier) == 0 {
		hier = []string{"/sys/fs/cgroup"}
	}
	for _, h := range hier {
		dir := filepath.Join(h, root)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cgroup root %s: %w", dir, err)
		}
		// A v1 cpuset starts empty; a child needs its parent's CPUs and
		// memory nodes before any task can join it.
		if filepath.Base(h) == "cpuset" {
			for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
				if v, err := os.ReadFile(filepath.Join(h, file)); err == nil {
					_ = os.WriteFile(filepath.Join(dir, file), v, 0o644)
				}
			}
		}
	}
	return nil
}

// removeCgroupTree removes root and every cgroup below it, deepest first,
// in every hierarchy. A cgroup that still holds a process stays (and is
// reported by the leak checks of the test that made it).
func removeCgroupTree(root string) {
	if root == "" || root == "/" {
		return
	}
	hier := v1Hierarchies()
	if len(hier) == 0 {
		hier = []string{"/sys/fs/cgroup"}
	}
	for _, h := range hier {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(h, root), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}
