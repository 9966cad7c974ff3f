// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	api "github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/stub"
)

// envPlugin is an NRI plugin that gives the containers of one namespace's
// pods an environment variable, and records those pods' events.
type envPlugin struct {
	namespace string
	mu        sync.Mutex
	events    []string
}

func (p *envPlugin) record(pod *api.PodSandbox, e string) {
	if pod.GetNamespace() != p.namespace {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e+" "+pod.GetName())
}

func (p *envPlugin) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events)
}

func (p *envPlugin) RunPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.record(pod, "run")
	return nil
}

func (p *envPlugin) StopPodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.record(pod, "stop")
	return nil
}

func (p *envPlugin) RemovePodSandbox(_ context.Context, pod *api.PodSandbox) error {
	p.record(pod, "remove")
	return nil
}

func (p *envPlugin) CreateContainer(_ context.Context, pod *api.PodSandbox, c *api.Container) (*api.ContainerAdjustment, []*api.ContainerUpdate, error) {
	if pod.GetNamespace() != p.namespace {
		return nil, nil, nil
	}
	p.record(pod, "create "+c.GetName()+" in")
	adj := &api.ContainerAdjustment{}
	adj.AddEnv("FROM_NRI", "injected into "+c.GetName())
	return adj, nil, nil
}

// An NRI plugin on the node hears of a kubelet's pod from its start to
// its removal, and what it adds to a container is in the container the
// kubelet runs.
func TestNRIPluginAdjustsTheKubeletsContainers(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	plugin := &envPlugin{namespace: n.name}
	s, err := stub.New(plugin, stub.WithSocketPath(filepath.Join(node.Dir(), "nri.sock")),
		stub.WithPluginName("node-e2e-env"), stub.WithPluginIdx("50"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatalf("connect the NRI plugin: %v", err)
	}
	t.Cleanup(func() { cancel(); s.Stop(); s.Wait() })

	n.apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: nri}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: [sleep, "3600"]
`, busybox))
	n.waitPod("nri", 2*time.Minute, podReady)
	if got := strings.TrimSpace(n.execOut("nri", "main", "sh", "-c", "echo $FROM_NRI")); got != "injected into main" {
		t.Errorf("FROM_NRI in the kubelet's container is %q, want the plugin's %q", got, "injected into main")
	}
	n.kubectl("", "delete", "pod", "nri", "--wait=true", "--timeout=90s")
	eventually(t, time.Minute, "the pod's removal reaching the plugin", func() error {
		if got := plugin.seen(); !slices.Contains(got, "remove nri") {
			return fmt.Errorf("the plugin heard %v", got)
		}
		return nil
	})
	got := plugin.seen()
	want := []string{"run nri", "create main in nri", "stop nri", "remove nri"}
	if !slices.Equal(got, want) {
		t.Errorf("the plugin heard %v, want %v in that order", got, want)
	}
}
