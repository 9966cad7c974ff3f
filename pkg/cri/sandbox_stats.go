// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/sandbox"
)

// memberSample is one container's stats and the raw figures behind them.
type memberSample struct {
	rec   *container.Record
	stats *runtimeapi.ContainerStats
	usage container.Usage
}

// podSample is one pod's stats and what its metrics are built from.
type podSample struct {
	pod     *sandbox.Record
	stats   *runtimeapi.PodSandboxStats
	members []memberSample
	ifaces  []network.IfaceStats // nil: no pod network to report
}

// podStats reads a pod: its cgroup (or, without one of its own, the pause's
// plus its containers'), its containers, and its network namespace. ctrs
// are the pod's containers, found by the caller once for every pod.
func (s *Service) podStats(pod *sandbox.Record, ctrs []*container.Record) (*podSample, error) {
	ps := &podSample{pod: pod}
	var cpu, ws, usage, rss, faults, majors, tasks uint64
	measured := false
	for _, r := range ctrs {
		st, u, ok, err := s.statsOrSkip(r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		ps.members = append(ps.members, memberSample{rec: r, stats: st, usage: u})
		if u.HasCgroup {
			measured = true
			cpu, ws, usage, rss = cpu+u.CPUNanos, ws+u.MemoryWorkingSet, usage+u.MemoryUsage, rss+u.MemoryRSS
			faults, majors, tasks = faults+u.PageFaults, majors+u.MajorPageFaults, tasks+u.Tasks
		}
	}
	pu, err := s.containers.PodUsage(pod)
	if err != nil {
		return nil, err
	}
	var limit uint64
	switch {
	case pu.HasCgroup && pu.OwnCgroup:
		// The pod cgroup holds the pause and every container: its own
		// figures, and its limit, are the pod's.
		measured = true
		cpu, ws, usage, rss = pu.CPUNanos, pu.MemoryWorkingSet, pu.MemoryUsage, pu.MemoryRSS
		faults, majors, tasks, limit = pu.PageFaults, pu.MajorPageFaults, pu.Tasks, pu.MemoryLimit
	case pu.HasCgroup:
		measured = true
		cpu, ws, usage, rss = cpu+pu.CPUNanos, ws+pu.MemoryWorkingSet, usage+pu.MemoryUsage, rss+pu.MemoryRSS
		faults, majors, tasks = faults+pu.PageFaults, majors+pu.MajorPageFaults, tasks+pu.Tasks
	}
	linux := &runtimeapi.LinuxPodSandboxStats{}
	for _, m := range ps.members {
		linux.Containers = append(linux.Containers, m.stats)
	}
	// A stopped pod has no cgroup left: no figures rather than zeros.
	if measured {
		ts := pu.Timestamp.UnixNano()
		linux.Cpu = &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: u64(cpu)}
		if rate, ok := s.cpuRates.sample(pod.ID, pu.Timestamp, cpu); ok {
			linux.Cpu.UsageNanoCores = u64(rate)
		}
		linux.Memory = memoryUsage(ts, ws, usage, rss, faults, majors, limit)
		linux.Process = &runtimeapi.ProcessUsage{Timestamp: ts, ProcessCount: u64(tasks)}
	}
	if ifaces, ts, ok := podInterfaces(pod); ok {
		ps.ifaces = ifaces
		linux.Network = networkUsage(ts, ifaces)
	}
	ps.stats = &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{
			Id: pod.ID, Metadata: pod.Config.GetMetadata(),
			Labels: pod.Config.GetLabels(), Annotations: pod.Config.GetAnnotations(),
		},
		Linux: linux,
	}
	return ps, nil
}

// podInterfaces reads the counters inside the pod's network namespace,
// without the pod's default interface or lo; a host-network pod has none
// of its own, and a namespace that is gone (the pod is being removed) is
// reported as no network, not as a failed list.
func podInterfaces(pod *sandbox.Record) ([]network.IfaceStats, int64, bool) {
	if pod.NetNSPath == "" || pod.NetworkDown {
		return nil, 0, false
	}
	all, err := network.NetNSStatsOf(pod.Pid, pod.NetNSPath)
	ts := time.Now().UnixNano()
	if err != nil {
		klog.V(4).InfoS("No network stats for pod", "pod", pod.ID, "err", err)
		return nil, 0, false
	}
	var out []network.IfaceStats
	hasDefault := false
	for _, i := range all {
		if i.Name == "lo" {
			continue
		}
		hasDefault = hasDefault || i.Name == network.DefaultInterface
		out = append(out, i)
	}
	// The kubelet reads the default interface unconditionally.
	if !hasDefault {
		return nil, 0, false
	}
	return out, ts, true
}

func networkUsage(ts int64, ifaces []network.IfaceStats) *runtimeapi.NetworkUsage {
	n := &runtimeapi.NetworkUsage{Timestamp: ts}
	for _, i := range ifaces {
		u := &runtimeapi.NetworkInterfaceUsage{
			Name: i.Name, RxBytes: u64(i.RxBytes), RxErrors: u64(i.RxErrors),
			TxBytes: u64(i.TxBytes), TxErrors: u64(i.TxErrors),
		}
		if i.Name == network.DefaultInterface {
			n.DefaultInterface = u
		}
		n.Interfaces = append(n.Interfaces, u)
	}
	return n
}

// containersByPod groups every container by its pod, once per list.
func (s *Service) containersByPod() map[string][]*container.Record {
	by := map[string][]*container.Record{}
	for _, r := range s.containers.List() {
		by[r.SandboxID] = append(by[r.SandboxID], r)
	}
	return by
}

// PodSandboxStats reports a pod's resource use.
func (s *Service) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	pod, err := s.sandboxes.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(err)
	}
	var ctrs []*container.Record
	for _, r := range s.containers.List() {
		if r.SandboxID == pod.ID {
			ctrs = append(ctrs, r)
		}
	}
	ps, err := s.podStats(pod, ctrs)
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: ps.stats}, nil
}

// ListPodSandboxStats reports the resource use of the pods the filter
// selects.
func (s *Service) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	samples, err := s.listPodSamples(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListPodSandboxStatsResponse{Stats: podStatsOf(samples)}, nil
}

// StreamPodSandboxStats is ListPodSandboxStats in batches.
func (s *Service) StreamPodSandboxStats(req *runtimeapi.StreamPodSandboxStatsRequest, stream runtimeapi.RuntimeService_StreamPodSandboxStatsServer) error {
	samples, err := s.listPodSamples(req.GetFilter())
	if err != nil {
		return err
	}
	return sendBatches(podStatsOf(samples), func(b []*runtimeapi.PodSandboxStats) error {
		return stream.Send(&runtimeapi.StreamPodSandboxStatsResponse{PodSandboxStats: b})
	})
}

func podStatsOf(samples []*podSample) []*runtimeapi.PodSandboxStats {
	out := make([]*runtimeapi.PodSandboxStats, 0, len(samples))
	for _, ps := range samples {
		out = append(out, ps.stats)
	}
	return out
}

// listPodSamples reads every pod the filter selects; a pod removed
// meanwhile is skipped. Each list also forgets the CPU samples of pods
// that are gone.
func (s *Service) listPodSamples(f *runtimeapi.PodSandboxStatsFilter) ([]*podSample, error) {
	byPod := s.containersByPod()
	var out []*podSample
	seen := map[string]bool{}
	for _, pod := range s.sandboxes.List() {
		seen[pod.ID] = true
		if f.GetId() != "" && !strings.HasPrefix(pod.ID, f.GetId()) || !labelsMatch(pod.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		ps, err := s.podStats(pod, byPod[pod.ID])
		if err != nil {
			if _, gerr := s.sandboxes.Get(pod.ID); gerr != nil {
				continue // removed meanwhile
			}
			return nil, toStatus(err)
		}
		out = append(out, ps)
	}
	s.cpuRates.keepOnly(seen)
	return out, nil
}
