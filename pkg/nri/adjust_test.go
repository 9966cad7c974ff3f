// SPDX-License-Identifier: Apache-2.0

package nri

import (
	"slices"
	"strings"
	"testing"

	api "github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/runtime-tools/generate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/sandbox"
)

func baseSpec() *specs.Spec {
	return &specs.Spec{
		Process: &specs.Process{Args: []string{"sleep", "1"}, Env: []string{"PATH=/bin", "KEEP=1", "DROP=1"}},
		Mounts:  []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, {Destination: "/old", Type: "bind", Source: "/x"}},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"}},
			Resources:  &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
		},
	}
}

// What a plugin asks for lands in the spec podshim hands to runc.
func TestAdjustmentReachesTheSpec(t *testing.T) {
	spec := baseSpec()
	adj := &api.ContainerAdjustment{}
	adj.AddEnv("ADDED", "yes")
	adj.AddEnv("KEEP", "2")
	adj.RemoveEnv("DROP")
	adj.AddMount(&api.Mount{Destination: "/data", Source: "/srv/data", Type: "bind", Options: []string{"rbind", "ro"}})
	adj.RemoveMount("/old")
	adj.AddAnnotation("example.com/a", "b")
	adj.SetLinuxMemoryLimit(64 << 20)
	adj.SetLinuxCPUShares(512)
	adj.SetLinuxCPUSetCPUs("0")
	adj.AddDevice(&api.LinuxDevice{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229})
	adj.SetArgs([]string{"sh", "-c", "true"})
	adj.AddOrReplaceNamespace(&api.LinuxNamespace{Type: "network", Path: "/proc/2/ns/net"})

	if err := generate.SpecGenerator(&specEditor{s: spec}).Adjust(adj); err != nil {
		t.Fatalf("Adjust: %v", err)
	}
	env := spec.Process.Env
	for _, want := range []string{"ADDED=yes", "KEEP=2", "PATH=/bin"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v lacks %s", env, want)
		}
	}
	if slices.ContainsFunc(env, func(e string) bool { return e == "DROP=1" || e == "KEEP=1" }) {
		t.Errorf("env %v still has what the plugin removed or replaced", env)
	}
	var dests []string
	for _, m := range spec.Mounts {
		dests = append(dests, m.Destination)
	}
	if !slices.Contains(dests, "/data") || slices.Contains(dests, "/old") || !slices.Contains(dests, "/proc") {
		t.Errorf("mounts %v: want /proc and /data, not /old", dests)
	}
	if spec.Annotations["example.com/a"] != "b" {
		t.Errorf("annotations %v", spec.Annotations)
	}
	r := spec.Linux.Resources
	if r.Memory == nil || r.Memory.Limit == nil || *r.Memory.Limit != 64<<20 {
		t.Errorf("memory %+v, want a 64 MiB limit", r.Memory)
	}
	if r.CPU == nil || r.CPU.Shares == nil || *r.CPU.Shares != 512 || r.CPU.Cpus != "0" {
		t.Errorf("cpu %+v, want 512 shares on cpu 0", r.CPU)
	}
	if len(spec.Linux.Devices) != 1 || spec.Linux.Devices[0].Path != "/dev/fuse" {
		t.Errorf("devices %+v, want /dev/fuse", spec.Linux.Devices)
	}
	if !slices.Equal(spec.Process.Args, []string{"sh", "-c", "true"}) {
		t.Errorf("args %v", spec.Process.Args)
	}
	for _, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace && ns.Path != "/proc/2/ns/net" {
			t.Errorf("network namespace %q, want the plugin's", ns.Path)
		}
	}
}

// Plugins get the names and IDs the kubelet gave, from the records.
func TestPluginsSeeTheKubeletsNames(t *testing.T) {
	pod := &sandbox.Record{ID: "p1", Pid: 42, IPs: []string{"10.0.0.2"}, Config: &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "u1"},
		Labels:   map[string]string{"app": "web"},
		Linux: &runtimeapi.LinuxPodSandboxConfig{CgroupParent: "/kubepods/pod-u1",
			Resources: &runtimeapi.LinuxContainerResources{CpuShares: 1024, MemoryLimitInBytes: 1 << 30}},
	}}
	p := podOf(pod)
	if p.GetId() != "p1" || p.GetName() != "web" || p.GetNamespace() != "default" || p.GetUid() != "u1" || p.GetPid() != 42 {
		t.Errorf("pod %+v", p)
	}
	if p.GetLinux().GetCgroupParent() != "/kubepods/pod-u1" || p.GetLinux().GetPodResources().GetMemory().GetLimit().GetValue() != 1<<30 {
		t.Errorf("pod linux %+v", p.GetLinux())
	}
	c := &container.Record{ID: "c1", SandboxID: "p1", ImageRef: "busybox", Config: &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "main"}, Labels: map[string]string{"l": "v"}}}
	nc := containerOf(c, baseSpec(), api.ContainerState_CONTAINER_CREATED)
	if nc.GetId() != "c1" || nc.GetPodSandboxId() != "p1" || nc.GetName() != "main" || nc.GetState() != api.ContainerState_CONTAINER_CREATED {
		t.Errorf("container %+v", nc)
	}
	if !slices.Equal(nc.GetArgs(), []string{"sleep", "1"}) || len(nc.GetMounts()) != 2 || len(nc.GetLinux().GetNamespaces()) != 2 {
		t.Errorf("container from spec: args %v, mounts %v, namespaces %v", nc.GetArgs(), nc.GetMounts(), nc.GetLinux().GetNamespaces())
	}
}

// What podshim does not do is refused with a reason, not dropped.
func TestUnsupportedAdjustmentIsRefused(t *testing.T) {
	adj := &api.ContainerAdjustment{}
	adj.AddCDIDevice(&api.CDIDevice{Name: "vendor.com/gpu=0"})
	err := (&Service{}).generator(baseSpec()).Adjust(adj)
	if err == nil || !strings.Contains(err.Error(), "CDI devices: not supported") {
		t.Errorf("a CDI device from a plugin: got %v, want a refusal naming CDI", err)
	}
}
