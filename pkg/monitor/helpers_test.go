// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// testEnv is one monitor, started by the test, and the containers the
// test made in it.
type testEnv struct {
	t      *testing.T
	dir    string
	logDir string
	client *Client
	ids    []string
}

// newEnv starts a monitor in a fresh directory. Cleanup deletes every
// container, shuts the monitor down, waits for it to exit and checks
// that nothing is left.
func newEnv(t *testing.T) *testEnv {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	e := &testEnv{t: t, dir: filepath.Join(t.TempDir(), "mon"), logDir: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// PODSHIM_MONITOR_BINARY runs a real podshim (or any binary whose
	// `monitor` subcommand calls Main) instead of the test binary, to
	// measure what the monitor costs there.
	self := os.Getenv("PODSHIM_MONITOR_BINARY")
	if self == "" {
		self = os.Args[0]
	}
	c, err := Start(ctx, StartOptions{Self: self, Dir: e.dir, Runc: testRunc, RuncRoot: testRuncRoot})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	t.Cleanup(func() { e.cleanup(c) })
	return e
}

func (e *testEnv) cleanup(started *Client) {
	t := e.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c, err := Connect(ctx, e.dir); err == nil {
		for _, id := range e.ids {
			if err := c.Delete(ctx, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	select {
	case <-started.Exited():
	case <-ctx.Done():
		t.Errorf("monitor %d did not exit", started.Pid())
	}
	if err := leftovers(); err != nil {
		t.Errorf("left behind: %v", err)
	}
}

func (e *testEnv) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e.t.Cleanup(cancel)
	return ctx
}

// specOption changes a test container's spec.
type specOption func(*specs.Spec)

func withTty(s *specs.Spec) { s.Process.Terminal = true }

func withMemoryLimit(bytes int64) specOption {
	return func(s *specs.Spec) {
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &bytes}
	}
}

// bundle writes an OCI bundle that runs args in the busybox rootfs.
func (e *testEnv) bundle(id string, args []string, opts ...specOption) string {
	e.t.Helper()
	dir := filepath.Join(e.t.TempDir(), "bundle-"+id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		e.t.Fatal(err)
	}
	data, err := json.Marshal(testSpec(id, args, opts...))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return dir
}

func testSpec(id string, args []string, opts ...specOption) *specs.Spec {
	caps := []string{"CAP_KILL", "CAP_AUDIT_WRITE", "CAP_NET_BIND_SERVICE"}
	s := &specs.Spec{
		Version:  specs.Version,
		Root:     &specs.Root{Path: testRootfs, Readonly: true},
		Hostname: "monitor-test",
		Process: &specs.Process{
			Args:            args,
			Env:             []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
			Cwd:             "/",
			NoNewPrivileges: true,
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
		},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		},
		Linux: &specs.Linux{
			CgroupsPath: "/" + cgroupParent + "/" + runTag + "-" + id,
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
			Resources: &specs.LinuxResources{
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// run creates and starts a container running `sh -c script`, logging to
// a file in the test's log directory, and returns the log path.
func (e *testEnv) run(id, script string, opts ...specOption) string {
	e.t.Helper()
	logPath := e.create(CreateRequest{ID: id}, []string{"sh", "-c", script}, opts...)
	if _, err := e.client.Start(e.ctx(), id); err != nil {
		e.t.Fatal(err)
	}
	return logPath
}

// create creates a container; req.Bundle and req.LogPath are filled in.
func (e *testEnv) create(req CreateRequest, args []string, opts ...specOption) string {
	e.t.Helper()
	req.Bundle = e.bundle(req.ID, args, opts...)
	if req.LogPath == "" {
		req.LogPath = filepath.Join(e.logDir, req.ID+".log")
	}
	e.ids = append(e.ids, req.ID)
	pid, err := e.client.Create(e.ctx(), req)
	if err != nil {
		e.t.Fatal(err)
	}
	if pid <= 0 {
		e.t.Fatalf("create %s: pid %d", req.ID, pid)
	}
	return req.LogPath
}

// wait waits for the container's exit.
func (e *testEnv) wait(id string) State {
	e.t.Helper()
	st, err := e.client.Wait(e.ctx(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	if st.Status != StatusExited || st.FinishedAt.IsZero() {
		e.t.Fatalf("wait %s: %+v", id, st)
	}
	return st
}

// readLog reads and parses a CRI log file.
func readLog(t *testing.T, path string) []logRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseLog(t, data)
}

// eventually polls cond until it holds or the time is up.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containerProcesses lists processes running in the test rootfs.
func containerProcesses() []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		root, err := os.Readlink("/proc/" + e.Name() + "/root")
		if err == nil && testRootfs != "" && strings.HasPrefix(root, testRootfs) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unique returns n made unique to this test binary, for the arguments of
// processes a test looks for.
func unique(n int) string {
	return strconv.Itoa(n*1000 + os.Getpid()%1000)
}

// processesWithArgs lists processes whose command line is exactly args.
func processesWithArgs(args ...string) []int {
	want := strings.Join(args, "\x00") + "\x00"
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(data) == want {
			pids = append(pids, pid)
		}
	}
	return pids
}
