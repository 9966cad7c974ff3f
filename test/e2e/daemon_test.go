// SPDX-License-Identifier: Apache-2.0

// Package e2e drives a real podshim binary over its CRI socket. These tests
// need root (they are what a node runs as) and build nothing themselves:
// PODSHIM_BIN names the binary (make e2e sets it), else one is built.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// podshimBinary returns the daemon under test, building it once if needed.
func podshimBinary(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end tests run a real runtime and need root")
	}
	buildOnce.Do(func() {
		if p := os.Getenv("PODSHIM_BIN"); p != "" {
			binPath = p
			return
		}
		dir, err := os.MkdirTemp("", "podshim-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "podshim")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/podshim").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build podshim: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// daemon is one podshim process on its own temporary root, state and socket.
type daemon struct {
	t      *testing.T
	bin    string
	dir    string
	config string
	sock   string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	done   chan error
	net    podNet
	conn   *grpc.ClientConn
	images runtimeapi.ImageServiceClient
	rt     runtimeapi.RuntimeServiceClient
}

// startDaemon starts podshim with the given config file body, on a pod
// network of the test's own.
func startDaemon(t *testing.T, configTOML string) *daemon {
	t.Helper()
	return startDaemonOn(t, newPodNet(t), configTOML)
}

// startDaemonOn starts podshim on the given pod network. Pods the test
// leaves behind are removed before the daemon stops, so a failing test
// leaks no process, mount or IP either.
func startDaemonOn(t *testing.T, pn podNet, configTOML string) *daemon {
	t.Helper()
	dir := t.TempDir()
	// Traversable by anyone, parent included: the root of a
	// user-namespaced pod is an unprivileged host user, and its rootfs and
	// pod files live below.
	for _, p := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	d := &daemon{t: t, bin: podshimBinary(t), dir: dir, net: pn,
		config: filepath.Join(dir, "config.toml"), sock: filepath.Join(dir, "state", "podshim.sock")}
	// E2E_DEFAULT_RUNTIME runs the suite with pods under another handler
	// by default (make e2e-crun); a top-level key, so it goes first.
	if h := os.Getenv("E2E_DEFAULT_RUNTIME"); h != "" {
		configTOML = fmt.Sprintf("default_runtime = %q\n%s", h, configTOML)
	}
	// Top-level keys must precede tables, so the [cni] table goes last.
	if err := os.WriteFile(d.config, []byte(configTOML+"\n"+pn.config()), 0o600); err != nil {
		t.Fatal(err)
	}
	d.start()
	t.Cleanup(d.stop)
	t.Cleanup(d.removeAllPods)
	return d
}

// removeAllPods removes every pod of a daemon that still runs.
func (d *daemon) removeAllPods() {
	if d.cmd == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := d.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		d.t.Errorf("list pods at cleanup: %v", err)
		return
	}
	for _, p := range resp.Items {
		d.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.Id})
		if _, err := d.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
			d.t.Errorf("remove pod %s at cleanup: %v", p.Id, err)
		}
	}
}

func (d *daemon) args() []string {
	return []string{"--config", d.config, "--root", filepath.Join(d.dir, "root"),
		"--state", filepath.Join(d.dir, "state"), "--listen", d.sock, "-v", "2"}
}

func (d *daemon) start() {
	d.t.Helper()
	d.log = &bytes.Buffer{}
	d.cmd = exec.Command(d.bin, d.args()...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("start podshim: %v", err)
	}
	d.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(d.cmd, d.done)
	d.connect()
}

// connect waits for the socket to answer Version, as a kubelet would.
func (d *daemon) connect() {
	d.t.Helper()
	// 16 MiB messages, as the kubelet and crictl accept.
	conn, err := grpc.NewClient("unix://"+d.sock, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	if err != nil {
		d.t.Fatal(err)
	}
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = rt.Version(ctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			break
		}
		select {
		case werr := <-d.done:
			d.t.Fatalf("podshim exited: %v\n%s", werr, d.log)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("podshim did not answer on %s: %v\n%s", d.sock, err, d.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	d.conn, d.rt, d.images = conn, rt, runtimeapi.NewImageServiceClient(conn)
}

// stop ends the daemon with SIGTERM, the way an operator would.
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	if d.conn != nil {
		d.conn.Close()
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		d.t.Errorf("podshim did not stop on SIGTERM\n%s", d.log)
	}
	d.cmd = nil
}

// kill ends the daemon with SIGKILL: a crash.
func (d *daemon) kill() {
	if d.conn != nil {
		d.conn.Close()
	}
	d.cmd.Process.Kill()
	<-d.done
	d.cmd = nil
}

func (d *daemon) restart() {
	d.stop()
	d.start()
}

func ctxT(t *testing.T, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// TestMain puts back the host's ip_forward: the bridge plugin turns it on
// for pod networks, and a test run should leave the node as it found it.
func TestMain(m *testing.M) {
	const knob = "/proc/sys/net/ipv4/ip_forward"
	before, _ := os.ReadFile(knob)
	code := m.Run()
	if len(before) > 0 {
		os.WriteFile(knob, before, 0o644)
	}
	os.Exit(code)
}
