// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/registry"
)

// podEnv is a daemon with busybox pulled and one running pod.
type podEnv struct {
	d      *daemon
	image  string
	pod    string
	podCfg *runtimeapi.PodSandboxConfig
	logDir string
}

func newPodEnv(t *testing.T, daemonConfig string) *podEnv {
	t.Helper()
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, daemonConfig)
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	cfg := podConfig("ctr-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
	cfg.LogDirectory = t.TempDir()
	return &podEnv{d: d, image: image, pod: runPod(t, d, cfg), podCfg: cfg, logDir: cfg.LogDirectory}
}

func (e *podEnv) containerConfig(name string, cmd ...string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: e.image},
		Command:  cmd,
		LogPath:  name + ".log",
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
}

func (e *podEnv) create(t *testing.T, cfg *runtimeapi.ContainerConfig) string {
	t.Helper()
	resp, err := e.d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{
		PodSandboxId: e.pod, Config: cfg, SandboxConfig: e.podCfg})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", cfg.Metadata.Name, err)
	}
	return resp.ContainerId
}

func (e *podEnv) run(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	id := e.create(t, e.containerConfig(name, cmd...))
	if _, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StartContainer %s: %v", name, err)
	}
	return id
}

func (e *podEnv) status(t *testing.T, id string) *runtimeapi.ContainerStatus {
	t.Helper()
	resp, err := e.d.rt.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		t.Fatalf("ContainerStatus %s: %v", id, err)
	}
	return resp.Status
}

// waitState polls ContainerStatus, as the kubelet does, until want or a
// minute passes.
func (e *podEnv) waitState(t *testing.T, id string, want runtimeapi.ContainerState) *runtimeapi.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := e.status(t, id)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %v, want %v", id, st.State, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logLine is one parsed CRI log line.
type logLine struct{ time, stream, tag, msg string }

func readLog(t *testing.T, path string) []logLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	var out []logLine
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		f := strings.SplitN(l, " ", 4)
		if len(f) < 3 {
			t.Fatalf("malformed CRI log line %q", l)
		}
		if _, err := time.Parse(time.RFC3339Nano, f[0]); err != nil {
			t.Fatalf("log line %q: timestamp: %v", l, err)
		}
		ll := logLine{time: f[0], stream: f[1], tag: f[2]}
		if len(f) == 4 {
			ll.msg = f[3]
		}
		out = append(out, ll)
	}
	return out
}

// waitForLog waits until the log at path holds a line containing s.
func waitForLog(t *testing.T, path, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), s) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	data, _ := os.ReadFile(path)
	t.Fatalf("log %s never showed %q:\n%s", filepath.Base(path), s, data)
}
