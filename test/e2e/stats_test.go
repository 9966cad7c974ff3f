// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/registry"
)

// statsParent makes a pod cgroup as the kubelet does (a parent of the
// pod's own, with a memory limit), below this suite's own cgroup root, and
// removes it once the pod is gone.
func statsParent(t *testing.T, limit int64) string {
	t.Helper()
	parent := fmt.Sprintf("/podshim-node-hb/e2e-stats-%d", os.Getpid())
	mem := filepath.Join("/sys/fs/cgroup/memory", parent)
	if err := os.MkdirAll(mem, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mem, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Deepest first: the parent, then the suite root if now empty.
		for _, ctl := range []string{"memory", "cpu,cpuacct", "cpuacct", "cpu", "pids", "blkio", "devices", "freezer", "cpuset", "hugetlb", "net_cls,net_prio", "perf_event", "systemd", "unified"} {
			os.Remove(filepath.Join("/sys/fs/cgroup", ctl, parent))
			os.Remove(filepath.Join("/sys/fs/cgroup", ctl, filepath.Dir(parent)))
		}
	})
	return parent
}

// A running pod reports what the kubelet's summary API and its
// /metrics/cadvisor take from the runtime: the traffic it received on
// eth0 (read in its network namespace), its process count, available
// memory under its limits, and the cAdvisor-named metrics.
func TestPodStatsAndMetricsFromTheRuntime(t *testing.T) {
	pn := fencedPodNet(t, "pshb9", "10.182.255.0/24")
	reg := startRegistry(t, registry.Options{})
	d := startDaemonOn(t, pn, "")
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	cfg := podConfig("stats")
	cfg.Linux.CgroupParent = statsParent(t, 256<<20)
	cfg.LogDirectory = t.TempDir()
	pod := runPod(t, d, cfg)
	t.Cleanup(func() { removePod(t, d, pod) })
	ctrCfg := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "sleeper"},
		Image:    &runtimeapi.ImageSpec{Image: image},
		Command:  []string{"sleep", "3600"},
		LogPath:  "sleeper.log",
		Linux:    &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}},
	}
	cr, err := d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: ctrCfg, SandboxConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: cr.ContainerId}); err != nil {
		t.Fatal(err)
	}

	// Traffic from the host (loopback side of the bridge) to the pod IP.
	st, info := podStatus(t, d, pod)
	ip := st.GetNetwork().GetIp()
	serveHTTP(t, info.NetNamespace, ip+":8080", "stats")
	for i := 0; i < 5; i++ {
		if got := fetch(t, "", "http://"+ip+":8080/"); got != "hello from stats\n" {
			t.Fatalf("GET from the pod: %q", got)
		}
	}

	resp, err := d.rt.PodSandboxStats(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatsRequest{PodSandboxId: pod})
	if err != nil {
		t.Fatal(err)
	}
	lx := resp.GetStats().GetLinux()
	eth0 := lx.GetNetwork().GetDefaultInterface()
	if eth0.GetName() != "eth0" || eth0.GetRxBytes().GetValue() == 0 || eth0.GetTxBytes().GetValue() == 0 {
		t.Fatalf("default interface %+v", eth0)
	}
	for _, i := range lx.GetNetwork().GetInterfaces() {
		if i.GetName() == "lo" {
			t.Fatalf("loopback reported: %+v", lx.Network.Interfaces)
		}
	}
	// The pause and sleep, at least.
	if n := lx.GetProcess().GetProcessCount().GetValue(); n < 2 {
		t.Fatalf("process count %d, want the pause and the container's", n)
	}
	if a := lx.GetMemory().GetAvailableBytes(); a == nil || a.Value == 0 || a.Value > 256<<20 {
		t.Fatalf("pod available bytes %v under a 256 MiB pod limit", a)
	}
	if len(lx.GetContainers()) != 1 {
		t.Fatalf("%d containers in the pod stats", len(lx.GetContainers()))
	}
	cm := lx.Containers[0].GetMemory()
	if a := cm.GetAvailableBytes(); a == nil || a.Value == 0 || a.Value > 64<<20 || a.Value+cm.GetWorkingSetBytes().GetValue() != 64<<20 {
		t.Fatalf("container available bytes %v, working set %v, limit 64 MiB", a, cm.GetWorkingSetBytes())
	}

	// The kubelet's eviction manager lists every ten seconds; the second
	// list a second later or more carries the pod's CPU rate.
	time.Sleep(1100 * time.Millisecond)
	list, err := d.rt.ListPodSandboxStats(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxStatsRequest{})
	if err != nil || len(list.Stats) != 1 || list.Stats[0].GetLinux().GetCpu().GetUsageNanoCores() == nil {
		t.Fatalf("list: %v %v", list, err)
	}
	stream, err := d.rt.StreamPodSandboxStats(ctxT(t, 10*time.Second), &runtimeapi.StreamPodSandboxStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var streamed int
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		streamed += len(m.PodSandboxStats)
	}
	if streamed != 1 {
		t.Fatalf("%d pods streamed, want 1", streamed)
	}

	descs, err := d.rt.ListMetricDescriptors(ctxT(t, 10*time.Second), &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string][]string{}
	for _, d := range descs.Descriptors {
		labels[d.Name] = d.LabelKeys
	}
	mresp, err := d.rt.ListPodSandboxMetrics(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxMetricsRequest{})
	if err != nil || len(mresp.PodMetrics) != 1 {
		t.Fatalf("metrics: %v %v", mresp, err)
	}
	pm := mresp.PodMetrics[0]
	got := map[string]map[string]string{} // metric -> labels of its sample
	value := map[string]uint64{}
	collect := func(ms []*runtimeapi.Metric) {
		for _, m := range ms {
			keys, ok := labels[m.Name]
			if !ok || len(keys) != len(m.LabelValues) {
				t.Fatalf("%s: labels %v, descriptor %v", m.Name, m.LabelValues, keys)
			}
			l := map[string]string{}
			for i, k := range keys {
				l[k] = m.LabelValues[i]
			}
			if l["interface"] == "" || l["interface"] == "eth0" {
				got[m.Name], value[m.Name] = l, m.GetValue().GetValue()
			}
		}
	}
	collect(pm.Metrics)
	if len(pm.ContainerMetrics) != 1 || pm.ContainerMetrics[0].ContainerId != cr.ContainerId {
		t.Fatalf("container metrics %+v", pm.ContainerMetrics)
	}
	collect(pm.ContainerMetrics[0].Metrics)
	rx := got["container_network_receive_bytes_total"]
	if rx == nil || value["container_network_receive_bytes_total"] == 0 || rx["container"] != "POD" || rx["pod"] != "stats" || rx["namespace"] != "e2e" {
		t.Fatalf("eth0 receive bytes: %v = %d", rx, value["container_network_receive_bytes_total"])
	}
	for _, name := range []string{"container_memory_working_set_bytes", "container_memory_usage_bytes", "container_memory_rss",
		"container_threads", "container_processes", "container_start_time_seconds", "container_last_seen",
		"container_file_descriptors", "container_fs_limit_bytes", "container_fs_inodes_total", "container_spec_cpu_period", "container_spec_cpu_shares"} {
		if got[name] == nil || value[name] == 0 || got[name]["container"] != "sleeper" || got[name]["pod"] != "stats" {
			t.Errorf("%s: %v = %d", name, got[name], value[name])
		}
	}
	if v := value["container_spec_memory_limit_bytes"]; v != 64<<20 {
		t.Errorf("container_spec_memory_limit_bytes = %d, want 64 MiB", v)
	}
	if _, ok := got["container_cpu_usage_seconds_total"]; !ok {
		t.Errorf("no container_cpu_usage_seconds_total")
	}
}
