// SPDX-License-Identifier: Apache-2.0

// Package nodeimage_test builds podshim's node image (the Dockerfile) with
// no image registry, through build.sh, and checks what an operator relies
// on: the image says which podshim it carries, its doctor reports the node
// as the host's own doctor does, and the image, started as a privileged
// kind-style node container, is a working CRI runtime that pulls an image
// and runs a pod.
//
// It needs root, debootstrap and buildah (build.sh installs both from
// Debian's packages), and runs only when PODSHIM_NODEIMAGE_TEST=1 (make
// test-node-image), since a cold build takes minutes.
package nodeimage_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rspec "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/podshim/podshim/test/images"
	"github.com/podshim/podshim/test/registry"
)

// The node test's pod network, fenced from every other interface.
const (
	bridge = "psnimg0"
	subnet = "10.191.0.0/24"
)

// build is build.sh's result.
type build struct {
	buildah []string // the buildah command with the storage build.sh uses
	image   string
	version string
}

func (b build) run(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(b.buildah[0], append(b.buildah[1:], args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func (b build) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := b.run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func binDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BIN")
	if dir == "" {
		dir = "../../bin"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"podshim", "runc", "crictl"} {
		if _, err := os.Stat(filepath.Join(abs, f)); err != nil {
			t.Fatalf("%s: %v (make build tools bin/crictl first)", f, err)
		}
	}
	return abs
}

// buildImage runs build.sh for a tag of this run's own and removes the
// image, and the build's dangling intermediate images, at the end. The
// Debian base and the builder image stay cached for the next build.
func buildImage(t *testing.T) build {
	t.Helper()
	if os.Getenv("PODSHIM_NODEIMAGE_TEST") != "1" {
		t.Skip("set PODSHIM_NODEIMAGE_TEST=1 (make test-node-image): a cold node image build takes minutes")
	}
	if os.Geteuid() != 0 {
		t.Skip("the node image build needs root (debootstrap, buildah)")
	}
	removeStrays(t)
	tag := fmt.Sprintf("localhost/podshim-node:test-%d", os.Getpid())
	cmd := exec.Command("bash", "build.sh", tag)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr // the build's progress, in the test's log
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("build.sh: %v", err)
	}
	t.Logf("node image built in %s", time.Since(start).Round(time.Second))
	var b build
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "BUILDAH":
			b.buildah = strings.Fields(v)
		case "IMAGE":
			b.image = v
		case "VERSION":
			b.version = v
		}
	}
	if len(b.buildah) == 0 || b.image != tag || b.version == "" {
		t.Fatalf("build.sh printed no BUILDAH/IMAGE/VERSION lines: %q", stdout.String())
	}
	t.Cleanup(func() {
		if _, err := b.run(t, "rmi", "-f", b.image); err != nil {
			t.Errorf("remove the test image: %v", err)
		}
		b.run(t, "rmi", "--prune") //nolint:errcheck // best effort: dangling build stages
	})
	if out, err := b.run(t, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.Entrypoint}} {{index .OCIv1.Config.Labels \"org.opencontainers.image.version\"}}", b.image); err != nil {
		t.Fatal(err)
	} else if got, want := strings.TrimSpace(string(out)), "[/usr/local/bin/podshim] "+b.version; got != want {
		t.Errorf("entrypoint and version label = %q, want %q", got, want)
	}
	return b
}

// removeStrays removes, at the end, what buildah creates at the system's
// paths whatever its --root says (build.sh does the same for its own run),
// unless it was there before the test.
func removeStrays(t *testing.T) {
	var ours []string
	for _, p := range []string{"/var/lib/containers/cache", "/run/containers/networks", "/etc/containers/networks", "/var/tmp/buildah-cache-0", "/run/podshim-nodeimage"} {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			ours = append(ours, p)
		}
	}
	t.Cleanup(func() {
		for _, p := range ours {
			os.RemoveAll(p)
		}
		os.Remove("/run/containers")
		os.Remove("/var/lib/containers")
	})
}

// container makes a working container of the image, removed at the end.
func (b build) container(t *testing.T) string {
	t.Helper()
	c := b.must(t, "from", "--pull=never", b.image)
	t.Cleanup(func() {
		if _, err := b.run(t, "rm", c); err != nil {
			t.Errorf("remove working container: %v", err)
		}
	})
	return c
}

// boundingCaps is this process's capability bounding set, by name: a
// privileged container gets these and no more (the test machine has no
// CAP_SYS_RESOURCE, so "all" cannot be asked for).
func boundingCaps(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("capsh", "--print").Output()
	if err != nil {
		t.Skipf("capsh (libcap2-bin) is needed to read the bounding set: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Bounding set ="); ok {
			return strings.Split(strings.ToUpper(strings.TrimSpace(v)), ",")
		}
	}
	t.Fatalf("capsh printed no bounding set:\n%s", out)
	return nil
}

// doctorStatuses reads `podshim doctor`'s table into check -> status.
func doctorStatuses(table string) map[string]string {
	m := map[string]string{}
	lines := strings.Split(table, "\n")
	if len(lines) == 0 {
		return m
	}
	statusAt := strings.Index(lines[0], "STATUS")
	detailAt := strings.Index(lines[0], "DETAIL")
	if statusAt < 0 || detailAt < statusAt {
		return m
	}
	for _, l := range lines[1:] {
		if len(l) < detailAt {
			continue
		}
		m[strings.TrimSpace(l[:statusAt])] = strings.TrimSpace(l[statusAt:detailAt])
	}
	return m
}

func TestNodeImage(t *testing.T) {
	bin := binDir(t)
	b := buildImage(t)

	t.Run("version", func(t *testing.T) {
		c := b.container(t)
		out := b.must(t, "run", "--isolation", "chroot", c, "--", "/usr/local/bin/podshim", "version")
		if want := "podshim " + b.version; out != want {
			t.Errorf("podshim version in the image = %q, want %q", out, want)
		}
	})

	t.Run("layout", func(t *testing.T) {
		c := b.container(t)
		script := `set -e
for f in podshim podshim-monitor pause runc crun-hybrid cni/bridge cni/host-local cni/loopback cni/portmap; do
  test -x /usr/local/lib/podshim/$f || { echo "missing /usr/local/lib/podshim/$f"; exit 1; }
done
test "$(readlink /usr/local/bin/podshim)" = ../lib/podshim/podshim
test -s /etc/podshim/config.toml
test -s /usr/local/lib/systemd/system/podshim.service
/usr/local/lib/podshim/runc --version | head -1
crun --version | head -1`
		out, err := b.run(t, "run", "--isolation", "chroot", c, "--", "sh", "-c", script)
		if err != nil {
			t.Fatalf("the image's tree: %v\n%s", err, out)
		}
		host, err := exec.Command(filepath.Join(bin, "runc"), "--version").Output()
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(host), "\n"); !strings.Contains(string(out), first) {
			t.Errorf("the image's runc is not the pinned one (%q):\n%s", first, out)
		}
	})

	// The doctor in the image, given a data directory on a real filesystem
	// (as a kind node's /var is a volume), says pods can run, and says of
	// the kernel what the host's own doctor says: no AppArmor, no SELinux,
	// no v1 hugetlb here, whatever another machine has.
	t.Run("doctor", func(t *testing.T) {
		c := b.container(t)
		data := t.TempDir()
		out, err := b.run(t, "run", "--isolation", "chroot", "--network", "host",
			"--cap-add", "CAP_SYS_ADMIN,CAP_NET_ADMIN", "--volume", data+":/var/lib/podshim",
			c, "--", "/usr/local/bin/podshim", "doctor")
		t.Logf("podshim doctor in the image:\n%s", out)
		if err != nil {
			t.Fatalf("doctor in the image failed: %v", err)
		}
		if !strings.Contains(string(out), "pods can run on this node") {
			t.Errorf("doctor in the image does not say pods can run")
		}
		hostOut, _ := exec.Command(filepath.Join(bin, "podshim"), "doctor").Output()
		inImage, onHost := doctorStatuses(string(out)), doctorStatuses(string(hostOut))
		for _, check := range []string{"kernel", "cgroup version", "cgroup controllers", "cgroup hugetlb", "seccomp (kernel)", "user namespaces", "AppArmor", "SELinux", "overlayfs"} {
			if inImage[check] == "" || inImage[check] != onHost[check] {
				t.Errorf("doctor check %q: %q in the image, %q on the host", check, inImage[check], onHost[check])
			}
		}
	})

	t.Run("node", func(t *testing.T) {
		runNode(t, b, bin)
	})
}

// runNode starts the image as a kind-style node container (privileged, the
// host's network, its own PID and mount namespaces, the host's /sys and /dev,
// a volume for podshim's data) with the pinned runc, and drives the podshim
// in it from outside with crictl: pull from a registry on loopback, a pod
// with a container whose PID 1 is the pod's pause, its log, its removal.
func runNode(t *testing.T, b build, bin string) {
	caps := boundingCaps(t)
	reg := startRegistry(t)
	fence(t)

	c := b.container(t)
	rootfs := b.must(t, "mount", c)
	t.Cleanup(func() { b.run(t, "umount", c) }) //nolint:errcheck // rm unmounts too

	dir := t.TempDir()
	data, state, runcRoot, bundle := filepath.Join(dir, "data"), filepath.Join(dir, "state"), filepath.Join(dir, "runc"), filepath.Join(dir, "bundle")
	for _, d := range []string{data, state, runcRoot, bundle} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, "[registry.mirrors]\n\"docker.io\" = [\"http://%s\"]\n[cni]\ndefault_subnet = %q\ndefault_bridge = %q\n", reg, subnet, bridge), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := nodeSpec(rootfs, caps, data, state, conf)
	js, err := json.MarshalIndent(spec, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}

	runc := filepath.Join(bin, "runc")
	id := fmt.Sprintf("podshim-node-test-%d", os.Getpid())
	logf, err := os.Create(filepath.Join(dir, "podshim.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := exec.Command(runc, "--root", runcRoot, "run", "--detach", "--bundle", bundle, id)
	start.Stdout, start.Stderr = logf, logf
	if err := start.Run(); err != nil {
		log, _ := os.ReadFile(logf.Name())
		t.Fatalf("runc run the node image: %v\n%s", err, log)
	}
	t.Cleanup(func() {
		exec.Command(runc, "--root", runcRoot, "kill", id, "TERM").Run() //nolint:errcheck
		for i := 0; i < 100; i++ {
			out, _ := exec.Command(runc, "--root", runcRoot, "state", id).Output()
			if !bytes.Contains(out, []byte(`"running"`)) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if out, err := exec.Command(runc, "--root", runcRoot, "delete", "--force", id).CombinedOutput(); err != nil {
			t.Errorf("runc delete the node: %v\n%s", err, out)
		}
		if log, _ := os.ReadFile(logf.Name()); t.Failed() {
			t.Logf("podshim in the node:\n%s", log)
		}
	})

	sock := filepath.Join(state, "podshim.sock")
	waitSocket(t, sock, logf.Name())
	crictl := func(args ...string) string {
		t.Helper()
		cfg := filepath.Join(dir, "crictl.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n", sock, sock), 0o644) //nolint:errcheck
		cmd := exec.Command(filepath.Join(bin, "crictl"), append([]string{"--config", cfg}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}

	if v := crictl("version"); !strings.Contains(v, "podshim") || !strings.Contains(v, b.version) {
		t.Errorf("crictl version through the node:\n%s", v)
	}
	const img = "docker.io/library/busybox:latest"
	crictl("pull", img)

	podJSON := filepath.Join(dir, "pod.json")
	ctrJSON := filepath.Join(dir, "ctr.json")
	writeJSON(t, podJSON, map[string]any{
		"metadata":      map[string]string{"name": "nodeimage", "namespace": "default", "uid": fmt.Sprintf("nodeimage-%d", os.Getpid())},
		"log_directory": "/var/lib/podshim/test-logs/nodeimage",
		"linux":         map[string]any{},
	})
	writeJSON(t, ctrJSON, map[string]any{
		"metadata": map[string]string{"name": "c"},
		"image":    map[string]string{"image": img},
		"command":  []string{"sh", "-c", "echo hello from the node image; exec sleep 3600"},
		"log_path": "c.log",
		"linux":    map[string]any{},
	})
	pod := crictl("runp", podJSON)
	removed := false
	t.Cleanup(func() {
		if !removed {
			exec.Command(filepath.Join(bin, "crictl"), "--config", filepath.Join(dir, "crictl.yaml"), "rmp", "--force", pod).Run() //nolint:errcheck
		}
	})
	ctr := crictl("create", pod, ctrJSON, podJSON)
	crictl("start", ctr)

	out := crictl("exec", ctr, "sh", "-c", `tr '\0' ' ' < /proc/1/cmdline; echo; ip -4 -o addr show eth0`)
	first, rest, _ := strings.Cut(out, "\n")
	if strings.TrimSpace(first) != "/pause" {
		t.Errorf("PID 1 in the pod is %q, want the pod's /pause", first)
	}
	_, ipnet, _ := net.ParseCIDR(subnet)
	ip := ""
	if f := strings.Fields(rest); len(f) >= 4 {
		ip, _, _ = strings.Cut(f[3], "/")
	}
	if parsed := net.ParseIP(ip); parsed == nil || !ipnet.Contains(parsed) {
		t.Errorf("the pod's eth0 address %q is not in the node network %s:\n%s", ip, subnet, out)
	}

	// The log is written by the monitor inside the node, on the data volume.
	logPath := filepath.Join(data, "test-logs/nodeimage/c.log")
	deadline := time.Now().Add(10 * time.Second)
	for {
		log, _ := os.ReadFile(logPath)
		if bytes.Contains(log, []byte(" stdout F hello from the node image\n")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("container log %s: %q, want the container's line in CRI format", logPath, log)
		}
		time.Sleep(100 * time.Millisecond)
	}

	crictl("stopp", pod)
	crictl("rmp", pod)
	removed = true
	if left := crictl("pods", "-q"); left != "" {
		t.Errorf("pods left after rmp: %s", left)
	}
}

// nodeSpec is a privileged container's spec, as docker run --privileged
// --network host gives a kind node: every capability of the bounding set,
// no seccomp, no masked paths, the host's /dev and /sys (cgroups included,
// writable), its own /proc, and volumes for podshim's data, state and
// config. Mounts made inside (netns files, rootfs overlays) stay inside
// (rslave).
func nodeSpec(rootfs string, caps []string, data, state, conf string) *rspec.Spec {
	bind := func(src, dst string, opts ...string) rspec.Mount {
		return rspec.Mount{Destination: dst, Type: "bind", Source: src, Options: append([]string{"rbind", "rw"}, opts...)}
	}
	allow := true
	return &rspec.Spec{
		Version: rspec.Version,
		Process: &rspec.Process{
			Args:         []string{"/usr/local/bin/podshim", "-v=2"},
			Env:          []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cwd:          "/",
			Capabilities: &rspec.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		},
		Root:     &rspec.Root{Path: rootfs},
		Hostname: "podshim-node",
		Mounts: []rspec.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			bind("/dev", "/dev"),
			bind("/sys", "/sys"),
			{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=755"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
			bind(data, "/var/lib/podshim"),
			bind(state, "/run/podshim"),
			bind(conf, "/etc/podshim/config.toml", "ro"),
		},
		Linux: &rspec.Linux{
			Namespaces:        []rspec.LinuxNamespace{{Type: rspec.PIDNamespace}, {Type: rspec.MountNamespace}, {Type: rspec.UTSNamespace}, {Type: rspec.IPCNamespace}},
			Resources:         &rspec.LinuxResources{Devices: []rspec.LinuxDeviceCgroup{{Allow: allow, Access: "rwm"}}},
			CgroupsPath:       fmt.Sprintf("/podshim-node-test-%d", os.Getpid()),
			RootfsPropagation: "rslave",
		},
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, js, 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitSocket(t *testing.T, sock, logPath string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conn, err := net.Dial("unix", sock); err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("podshim in the node never served %s:\n%s", sock, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startRegistry serves busybox on loopback; the node shares the host's
// network, so it pulls from here through its docker.io mirror.
func startRegistry(t *testing.T) string {
	t.Helper()
	img, err := images.Busybox()
	if err != nil {
		t.Fatalf("build busybox: %v", err)
	}
	srv, err := registry.Start(registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Push([]images.Entry{{Repo: "library/busybox", Tags: []string{"latest"}, Image: img}}); err != nil {
		t.Fatal(err)
	}
	return srv.Addr
}

// fence drops forwarded traffic from the node's pod bridge to any other
// interface for the test's length: its pods reach nothing but each other
// and the node.
func fence(t *testing.T) {
	t.Helper()
	rule := []string{"FORWARD", "-i", bridge, "!", "-o", bridge, "-j", "DROP"}
	if out, err := exec.Command("iptables", append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Fatalf("iptables fence: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("iptables", append([]string{"-D"}, rule...)...).Run() //nolint:errcheck
		exec.Command("ip", "link", "delete", bridge).Run()                 //nolint:errcheck // the node's bridge, gone with the node
	})
}
