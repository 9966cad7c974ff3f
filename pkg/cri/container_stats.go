// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/container"
)

func u64(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }

// containerStats reads one container's cgroup and writable layer.
func (s *Service) containerStats(r *container.Record) (*runtimeapi.ContainerStats, error) {
	u, err := s.containers.Usage(r)
	if err != nil {
		return nil, err
	}
	ts := u.Timestamp.UnixNano()
	st := &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{
			Id: r.ID, Metadata: r.Config.GetMetadata(),
			Labels: r.Config.GetLabels(), Annotations: r.Config.GetAnnotations(),
		},
		WritableLayer: &runtimeapi.FilesystemUsage{
			Timestamp: ts, FsId: &runtimeapi.FilesystemIdentifier{Mountpoint: u.WritableMount},
			UsedBytes: u64(u.WritableBytes), InodesUsed: u64(u.WritableInodes),
		},
	}
	// A container without a cgroup (not running) has no CPU or memory
	// figures: they are left out, as the kubelet allows, not made zero.
	if u.HasCgroup {
		st.Cpu = &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: u64(u.CPUNanos)}
		st.Memory = &runtimeapi.MemoryUsage{
			Timestamp: ts, WorkingSetBytes: u64(u.MemoryWorkingSet), UsageBytes: u64(u.MemoryUsage),
			RssBytes: u64(u.MemoryRSS), PageFaults: u64(u.PageFaults), MajorPageFaults: u64(u.MajorPageFaults),
		}
	}
	return st, nil
}

// statsOrSkip reads one container's stats for a list: a container removed
// meanwhile is skipped; any other failure fails the list, as in containerd,
// rather than hiding the container.
func (s *Service) statsOrSkip(r *container.Record) (*runtimeapi.ContainerStats, bool, error) {
	st, err := s.containerStats(r)
	if err == nil {
		return st, true, nil
	}
	if _, gerr := s.containers.Get(r.ID); gerr != nil {
		return nil, false, nil
	}
	return nil, false, err
}

// ContainerStats reports one container's resource use.
func (s *Service) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	r, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	st, err := s.containerStats(r)
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: st}, nil
}

// ListContainerStats reports the resource use of the containers the
// filter selects.
func (s *Service) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	var out []*runtimeapi.ContainerStats
	for _, r := range s.containers.List() {
		if f.GetId() != "" && !strings.HasPrefix(r.ID, f.GetId()) ||
			f.GetPodSandboxId() != "" && !strings.HasPrefix(r.SandboxID, f.GetPodSandboxId()) ||
			!labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		st, ok, err := s.statsOrSkip(r)
		if err != nil {
			return nil, toStatus(err)
		}
		if ok {
			out = append(out, st)
		}
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: out}, nil
}

// podStats sums a pod's containers; the pause's own use is negligible.
func (s *Service) podStats(id string) (*runtimeapi.PodSandboxStats, error) {
	pod, err := s.sandboxes.Get(id)
	if err != nil {
		return nil, err
	}
	var cpu, ws, usage, rss uint64
	var members []*runtimeapi.ContainerStats
	var ts int64
	for _, r := range s.containers.List() {
		if r.SandboxID != pod.ID {
			continue
		}
		st, ok, err := s.statsOrSkip(r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		members = append(members, st)
		// Getters: a container that is not running has no CPU or memory.
		cpu += st.GetCpu().GetUsageCoreNanoSeconds().GetValue()
		ws += st.GetMemory().GetWorkingSetBytes().GetValue()
		usage += st.GetMemory().GetUsageBytes().GetValue()
		rss += st.GetMemory().GetRssBytes().GetValue()
		ts = max(ts, st.GetCpu().GetTimestamp(), st.GetWritableLayer().GetTimestamp())
	}
	return &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{
			Id: pod.ID, Metadata: pod.Config.GetMetadata(),
			Labels: pod.Config.GetLabels(), Annotations: pod.Config.GetAnnotations(),
		},
		Linux: &runtimeapi.LinuxPodSandboxStats{
			Cpu:        &runtimeapi.CpuUsage{Timestamp: ts, UsageCoreNanoSeconds: u64(cpu)},
			Memory:     &runtimeapi.MemoryUsage{Timestamp: ts, WorkingSetBytes: u64(ws), UsageBytes: u64(usage), RssBytes: u64(rss)},
			Containers: members,
		},
	}, nil
}

// PodSandboxStats reports a pod's resource use.
func (s *Service) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	st, err := s.podStats(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.PodSandboxStatsResponse{Stats: st}, nil
}

// ListPodSandboxStats reports the resource use of the pods the filter
// selects.
func (s *Service) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	f := req.GetFilter()
	var out []*runtimeapi.PodSandboxStats
	for _, pod := range s.sandboxes.List() {
		if f.GetId() != "" && !strings.HasPrefix(pod.ID, f.GetId()) || !labelsMatch(pod.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		st, err := s.podStats(pod.ID)
		if err != nil {
			if _, gerr := s.sandboxes.Get(pod.ID); gerr != nil {
				continue // removed meanwhile
			}
			return nil, toStatus(err)
		}
		out = append(out, st)
	}
	return &runtimeapi.ListPodSandboxStatsResponse{Stats: out}, nil
}
