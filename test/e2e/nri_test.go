// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// adjustingPlugin is an NRI plugin that adds an environment variable and
// a read-only bind mount to every container, refuses containers named
// "refused", and records the events it hears.
type adjustingPlugin struct {
	hostDir string
	mu      sync.Mutex
	events  []string
}

func (p *adjustingPlugin) record(e string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

func (p *adjustingPlugin) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.events...)
}

func (p *adjustingPlugin) CreateContainer(_ context.Context, pod *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	p.record("create " + c.GetName())
	if c.GetName() == "refused" {
		return nil, nil, errors.New("this plugin refuses containers named refused")
	}
	adj := &api.ContainerAdjustment{}
	adj.AddEnv("FROM_NRI", "pod "+pod.GetName())
	adj.AddMount(&api.Mount{Destination: "/nri", Source: p.hostDir, Type: "bind", Options: []string{"rbind", "ro"}})
	adj.AddAnnotation("example.com/nri", "adjusted")
	return adj, nil, nil
}

func (p *adjustingPlugin) StopContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) ([]*api.ContainerUpdate, error) {
	p.record("stop " + c.GetName())
	return nil, nil
}

func (p *adjustingPlugin) RemoveContainer(_ context.Context, _ *api.PodSandbox, c *api.Container) error {
	p.record("remove " + c.GetName())
	return nil
}

// connectPlugin runs plugin against the daemon's NRI socket until the
// test ends.
func connectPlugin(t *testing.T, socket string, plugin any, name string) stub.Stub {
	t.Helper()
	s, err := stub.New(plugin, stub.WithSocketPath(socket), stub.WithPluginName(name), stub.WithPluginIdx("10"))
	if err != nil {
		t.Fatalf("NRI stub: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatalf("connect NRI plugin: %v", err)
	}
	t.Cleanup(func() { cancel(); s.Stop(); s.Wait() })
	return s
}

// nriSocketPath is a short path for an NRI socket (a test's temp dir may
// be too long for a unix socket's name).
func nriSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nri")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "nri.sock")
}

func nriConfig(socket string) string {
	dir := filepath.Dir(socket)
	return fmt.Sprintf("[nri]\nenable = true\nsocket_path = %q\nplugin_path = %q\nplugin_config_path = %q\n",
		socket, filepath.Join(dir, "plugins"), filepath.Join(dir, "conf.d"))
}

// An NRI plugin's adjustments reach the container: its environment, its
// mounts and its spec's annotations; a plugin's refusal fails the create
// with its reason and leaves no container behind.
func TestNRIPluginAdjustsAndRefusesContainers(t *testing.T) {
	socket := nriSocketPath(t)
	e := newPodEnv(t, nriConfig(socket))

	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plugin := &adjustingPlugin{hostDir: hostDir}
	connectPlugin(t, socket, plugin, "e2e-adjust")

	id := e.run(t, "adjusted", "sleep", "3600")
	resp, err := e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{
		ContainerId: id, Cmd: []string{"sh", "-c", `echo "$FROM_NRI"; cat /nri/f; touch /nri/g 2>/dev/null && echo writable`}})
	if err != nil {
		t.Fatalf("ExecSync: %v", err)
	}
	want := "pod " + e.podCfg.Metadata.Name + "\nfrom the host\n"
	if got := string(resp.GetStdout()); got != want {
		t.Errorf("in the adjusted container: %q, want %q (the plugin's env, and its read-only mount)", got, want)
	}

	st, err := e.d.rt.ContainerStatus(ctxT(t, time.Minute), &runtimeapi.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		RuntimeSpec specs.Spec `json:"runtimeSpec"`
	}
	if err := json.Unmarshal([]byte(st.GetInfo()["info"]), &info); err != nil {
		t.Fatalf("verbose info: %v", err)
	}
	if got := info.RuntimeSpec.Annotations["example.com/nri"]; got != "adjusted" {
		t.Errorf("the spec's annotation from the plugin is %q, want adjusted", got)
	}

	_, err = e.d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{
		PodSandboxId: e.pod, Config: e.containerConfig("refused", "sleep", "1"), SandboxConfig: e.podCfg})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "refuses containers named refused") {
		t.Fatalf("CreateContainer refused by the plugin: want FailedPrecondition with its reason, got %v", err)
	}
	list, err := e.d.rt.ListContainers(ctxT(t, time.Minute), &runtimeapi.ListContainersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.GetContainers() {
		if c.GetMetadata().GetName() == "refused" {
			t.Errorf("the refused container is listed: %s", c.GetId())
		}
	}

	if _, err := e.d.rt.StopContainer(ctxT(t, time.Minute), &runtimeapi.StopContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plugin.seen(), ", ")
	// A refused container's end is told too: plugins before the one that
	// refused had accepted it.
	if want := "create adjusted, create refused, stop refused, remove refused, stop adjusted, remove adjusted"; got != want {
		t.Errorf("the plugin heard: %s; want %s", got, want)
	}
}

// A second daemon's NRI does not take a socket another one serves: the
// library would remove it and cut the first one's plugins off.
func TestNRISocketInUseIsRefused(t *testing.T) {
	socket := nriSocketPath(t)
	startDaemon(t, nriConfig(socket))

	second := newDaemonCmd(t, nriConfig(socket))
	out, err := second.CombinedOutput()
	if err == nil {
		t.Fatalf("a second daemon started on the NRI socket in use; output:\n%s", out)
	}
	if !strings.Contains(string(out), "is in use") {
		t.Errorf("the second daemon failed, but not saying the NRI socket is in use:\n%s", out)
	}
	if _, err := os.Stat(socket); err != nil {
		t.Errorf("the first daemon's NRI socket is gone: %v", err)
	}
}

// newDaemonCmd is a podshim on its own dirs and pod network, for a test
// that expects it to exit by itself (within a minute).
func newDaemonCmd(t *testing.T, configTOML string) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(configTOML+"\n"+newPodNet(t).config()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return exec.CommandContext(ctx, podshimBinary(t), "--config", cfg, "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--listen", filepath.Join(dir, "state", "podshim.sock"))
}
