// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The pod network is the bench's own, so it can run beside a node's
// runtime, the e2e tests (pse2e*, 10.197/16) and conformance (psconf0,
// 10.198/16); BENCH_BRIDGE and BENCH_SUBNET (a /16) give a run beside
// another bench one of its own.
var (
	bridgeName = envOr("BENCH_BRIDGE", "psbench0")
	podSubnet  = envOr("BENCH_SUBNET", "10.195.0.0/16")
	// subnetPrefix finds rules about the subnet in iptables output: the
	// /16's first two octets.
	subnetPrefix = strings.Join(strings.SplitN(podSubnet, ".", 3)[:2], ".") + "."
)

const busyboxImage = "registry.k8s.io/e2e-test-images/busybox:1.29-2"

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// env is one bench run: its temporary dirs, the registry and daemon it
// started, and every pod it made (for leak checks and clean-up).
type env struct {
	bin                     string
	work, root, state, logs string
	sock, crictlConfig      string
	lock                    *os.File

	registry     *child
	registryAddr string
	daemon       *child
	// ref is containerd, when the run compares with it.
	ref *refRuntime

	conn *grpc.ClientConn
	rt   runtimeapi.RuntimeServiceClient
	img  runtimeapi.ImageServiceClient

	// pods is every pod this run created, removed or not.
	pods []podRef
	// mountBase is the mounts below work before the first pod, the daemon's own.
	mountBase map[string]bool
	daemonV   int
	// keepLogs is where clean-up copies the logs to, if anywhere.
	keepLogs string
	// notes are things worth a line in the report that are no verdict.
	notes []string
}

// podRef is what the leak checks need to know about a pod after it is gone.
type podRef struct {
	ID         string   `json:"id"`
	Containers []string `json:"containers,omitempty"`
	Pause      procRef  `json:"pause"` // zero when never read
}

// binDir finds the built binaries: the flag, else bin/ beside the go.mod
// of this module, found by walking up from the working directory.
func binDir(flagValue string) (string, error) {
	dir := flagValue
	if dir == "" {
		top, err := moduleRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(top, "bin")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, name := range []string{"podshim", "podshim-monitor", "pause", "runc", "crictl", "test-registry", "cni/bridge"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("%s missing: run `make build tools %s/crictl %s/test-registry` first", filepath.Join(dir, name), dir, dir)
		}
	}
	return dir, nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(data, []byte("module github.com/podshim/podshim\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the podshim module: run from its checkout or pass -bin")
		}
		dir = parent
	}
}

// newEnv takes the bench lock and makes the temporary dirs. The lock makes
// a bridge or fence rule found at start a leftover of a crashed run (safe
// to remove), never another run's.
func newEnv(bin string) (*env, error) {
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "podshim-bench.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("another bench run holds %s", lock.Name())
	}
	removeNetwork()
	var notes []string
	if n, err := removeSubnetMasq(); err != nil || n > 0 {
		notes = append(notes, fmt.Sprintf("start: removed masquerade rules an earlier run left for %d pods on %s (err: %v)", n, podSubnet, err))
	}

	work, err := os.MkdirTemp("", "podshim-bench.")
	if err != nil {
		lock.Close()
		return nil, err
	}
	e := &env{bin: bin, work: work, lock: lock, notes: notes,
		root: filepath.Join(work, "root"), state: filepath.Join(work, "state"), logs: filepath.Join(work, "logs"),
		sock: filepath.Join(work, "state", "podshim.sock"), crictlConfig: filepath.Join(work, "crictl.yaml")}
	// 0711: the pause and containers run as other users and must be able
	// to traverse to their files.
	for _, d := range []string{work, e.root, e.state, e.logs, filepath.Join(work, "cni"), filepath.Join(work, "configs")} {
		if err := os.MkdirAll(d, 0o711); err == nil {
			err = os.Chmod(d, 0o711)
		}
		if err != nil {
			e.cleanup()
			return nil, err
		}
	}
	return e, nil
}

// start runs the registry, fences the pod bridge, then runs the daemon and
// connects to it.
func (e *env) start(ctx context.Context) error {
	addr, err := e.startRegistry(ctx)
	if err != nil {
		return err
	}
	e.registryAddr = addr
	if err := addFence(); err != nil {
		return err
	}
	if err := e.writeConfigs(addr); err != nil {
		return err
	}
	return e.startDaemon(ctx)
}

// startRegistry serves every critest image on a loopback port and returns
// the address it wrote to its ready file.
func (e *env) startRegistry(ctx context.Context) (string, error) {
	ready := filepath.Join(e.work, "registry.addr")
	c, err := startChild(filepath.Join(e.bin, "test-registry"), filepath.Join(e.work, "registry.log"),
		"--listen", "127.0.0.1:0", "--ready-file", ready)
	if err != nil {
		return "", fmt.Errorf("start test registry: %w", err)
	}
	e.registry = c
	var addr string
	// Building the critest image set takes a while on a loaded machine.
	err = waitFor(ctx, 3*time.Minute, c, func() bool {
		data, err := os.ReadFile(ready)
		addr = strings.TrimSpace(string(data))
		return err == nil && addr != ""
	})
	if err != nil {
		return "", fmt.Errorf("test registry: %w", err)
	}
	return addr, nil
}

// writeConfigs writes podshim's config (own CNI dir, bridge and subnet;
// registry.k8s.io mirrored to the loopback registry) and crictl's, so no
// /etc/crictl.yaml on the host (pull-image-on-create, say) changes what
// is measured.
func (e *env) writeConfigs(addr string) error {
	cfg := fmt.Sprintf(`[cni]
conf_dir = %q
default_bridge = %q
default_subnet = %q

[registry.hosts.%q]
insecure = true

[registry.mirrors]
`, filepath.Join(e.work, "cni"), bridgeName, podSubnet, addr)
	// Every registry critest's benchmarks name, as containerd's are.
	for _, reg := range mirroredRegistries {
		cfg += fmt.Sprintf("%q = [\"http://%s\"]\n", reg, addr)
	}
	if err := os.WriteFile(filepath.Join(e.work, "config.toml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	ep := "unix://" + e.sock
	crictl := fmt.Sprintf("runtime-endpoint: %s\nimage-endpoint: %s\ntimeout: 120\ndebug: false\npull-image-on-create: false\n", ep, ep)
	return os.WriteFile(e.crictlConfig, []byte(crictl), 0o600)
}

// startDaemon runs podshim at its default log level (what a node runs, and
// what is measured) and waits until it answers Version.
func (e *env) startDaemon(ctx context.Context) error {
	c, err := startChild(filepath.Join(e.bin, "podshim"), filepath.Join(e.work, "podshim.log"),
		"--config", filepath.Join(e.work, "config.toml"), "--root", e.root, "--state", e.state, "--listen", e.sock,
		"-v", strconv.Itoa(e.daemonV))
	if err != nil {
		return fmt.Errorf("start podshim: %w", err)
	}
	e.daemon = c
	if e.conn, err = dial(e.sock); err != nil {
		return err
	}
	e.rt = runtimeapi.NewRuntimeServiceClient(e.conn)
	e.img = runtimeapi.NewImageServiceClient(e.conn)
	err = waitFor(ctx, time.Minute, c, func() bool {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := e.rt.Version(cctx, &runtimeapi.VersionRequest{})
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("podshim: %w", err)
	}
	return nil
}

// pull fetches the one image every pod runs, then notes the daemon's own
// mounts so the leak check only counts what pods left.
func (e *env) pull(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := e.img.PullImage(pctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: busyboxImage}}); err != nil {
		return fmt.Errorf("pull %s: %w", busyboxImage, err)
	}
	mounts, err := mountsBelow(e.work)
	if err != nil {
		return err
	}
	e.mountBase = map[string]bool{}
	for _, m := range mounts {
		e.mountBase[m] = true
	}
	return nil
}

func (e *env) daemonPid() int {
	if e.daemon == nil {
		return 0
	}
	return e.daemon.cmd.Process.Pid
}

// saveLogs copies the logs out of the work dir, which clean-up removes.
func (e *env) saveLogs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"podshim.log", "registry.log"} {
		data, err := os.ReadFile(filepath.Join(e.work, name))
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// printLogTail shows the end of the daemon's log after a failure: the
// work dir holding it is removed by the clean-up.
func (e *env) printLogTail(w io.Writer) {
	f, err := os.Open(filepath.Join(e.work, "podshim.log"))
	if err != nil {
		return
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 40 {
			lines = lines[1:]
		}
	}
	fmt.Fprintln(w, "bench: last lines of podshim.log:")
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}
