// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The reference runtime's pod network: a bridge and /16 of its own beside
// podshim's, fenced the same way.
var (
	refBridge = envOr("BENCH_REF_BRIDGE", "psbench1")
	refSubnet = envOr("BENCH_REF_SUBNET", "10.194.0.0/16")
)

// refRuntime is containerd, started by the bench on dirs below its work
// dir, with the runc and CNI plugins podshim uses and images mirrored to
// the same loopback registry: the two runtimes differ in nothing else.
type refRuntime struct {
	bin          string // containerd's bin dir (containerd, containerd-shim-runc-v2)
	dir          string // work/containerd
	sock         string
	crictlConfig string
	version      string
	child        *child
}

// registries critest and the bench name, each mirrored to the loopback
// registry.
var mirroredRegistries = []string{"registry.k8s.io", "docker.io", "public.ecr.aws", "gcr.io", "k8s.gcr.io"}

// startContainerd writes containerd's config, CNI network and registry
// hosts, fences its bridge, and starts it.
func (e *env) startContainerd(ctx context.Context, ctrdBin, registryAddr string) (*refRuntime, error) {
	r := &refRuntime{bin: ctrdBin, dir: filepath.Join(e.work, "containerd")}
	r.sock = filepath.Join(r.dir, "containerd.sock")
	r.crictlConfig = filepath.Join(r.dir, "crictl.yaml")
	for _, d := range []string{r.dir, filepath.Join(r.dir, "root"), filepath.Join(r.dir, "state"), filepath.Join(r.dir, "cni"), filepath.Join(r.dir, "certs.d")} {
		// 0711 as podshim's: containers run as other users.
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	for _, reg := range mirroredRegistries {
		hosts := fmt.Sprintf("server = \"http://%s\"\n\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", registryAddr, registryAddr)
		if err := writeFileIn(filepath.Join(r.dir, "certs.d", reg), "hosts.toml", hosts); err != nil {
			return nil, err
		}
	}
	// The same network podshim's embedded default makes: bridge with a
	// gateway and masquerade, host-local, portmap.
	cni := fmt.Sprintf(`{"cniVersion":"1.0.0","name":"bench-ref","plugins":[
 {"type":"bridge","bridge":%q,"isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":%q}]],"routes":[{"dst":"0.0.0.0/0"}]}},
 {"type":"portmap","capabilities":{"portMappings":true}}]}
`, refBridge, refSubnet)
	if err := writeFileIn(filepath.Join(r.dir, "cni"), "10-bench-ref.conflist", cni); err != nil {
		return nil, err
	}
	// containerd's defaults but for paths, the pause image the registry
	// serves, and restrict_oom_score_adj: this machine lacks
	// CAP_SYS_RESOURCE, and containerd's -998 for the pause makes runc
	// fail every pod here (CRITEST-NOTES).
	cfg := fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q
[grpc]
  address = %[3]q
[ttrpc]
  address = %[4]q
[plugins.'io.containerd.cri.v1.images']
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = 'registry.k8s.io/pause:3.10'
  [plugins.'io.containerd.cri.v1.images'.registry]
    config_path = %[5]q
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    BinaryName = %[6]q
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [%[7]q]
    conf_dir = %[8]q
`, filepath.Join(r.dir, "root"), filepath.Join(r.dir, "state"), r.sock, r.sock+".ttrpc",
		filepath.Join(r.dir, "certs.d"), filepath.Join(e.bin, "runc"), filepath.Join(e.bin, "cni"), filepath.Join(r.dir, "cni"))
	if err := writeFileIn(r.dir, "config.toml", cfg); err != nil {
		return nil, err
	}
	ep := "unix://" + r.sock
	if err := writeFileIn(r.dir, "crictl.yaml", fmt.Sprintf("runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 120\ndebug: false\npull-image-on-create: false\n", ep, ep)); err != nil {
		return nil, err
	}
	if err := addFenceFor(refBridge); err != nil {
		return nil, err
	}
	c, err := startChildEnv(filepath.Join(ctrdBin, "containerd"), filepath.Join(r.dir, "containerd.log"),
		// containerd finds its shim on PATH.
		[]string{"PATH=" + ctrdBin + ":" + os.Getenv("PATH")},
		"--config", filepath.Join(r.dir, "config.toml"))
	if err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	r.child = c
	err = waitFor(ctx, time.Minute, c, func() bool {
		out, err := e.crictlWith(ctx, r.crictlConfig, "version")
		if err == nil {
			r.version = versionLine(out, "RuntimeVersion:")
		}
		return err == nil
	})
	if err != nil {
		return r, fmt.Errorf("containerd: %w", err)
	}
	return r, nil
}

// stop removes every pod through containerd, stops it, ends the shims it
// left (its children, found by the socket they were given), and removes
// its network. Its dirs go with the bench's work dir.
func (r *refRuntime) stop(e *env) error {
	if r == nil {
		return nil
	}
	var errs []error
	if r.child != nil && !r.child.exited() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if _, err := e.crictlWith(ctx, r.crictlConfig, "rmp", "--all", "--force"); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	errs = append(errs, r.child.stop(20*time.Second))
	for _, pid := range r.shims() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	errs = append(errs, unmountBelow(r.dir))
	errs = append(errs, removeNetworkFor(refBridge))
	return errors.Join(errs...)
}

// shims lists the containerd-shim-runc-v2 processes serving this run's
// containerd: ours by construction, as their command line names its
// socket.
func (r *refRuntime) shims() []int {
	shim := filepath.Join(r.bin, "containerd-shim-runc-v2")
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if exe == shim && strings.Contains(string(cmdline), r.sock) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func versionLine(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func writeFileIn(dir, name, content string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600)
}
