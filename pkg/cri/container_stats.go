// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/container"
)

func u64(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }

// memoryUsage is the CRI form of a cgroup's memory figures. Available
// bytes are there only under a limit (limit minus working set, as the
// kubelet's eviction reads them); without one there is nothing to report.
func memoryUsage(ts int64, ws, usage, rss, faults, majors, limit uint64) *runtimeapi.MemoryUsage {
	m := &runtimeapi.MemoryUsage{
		Timestamp: ts, WorkingSetBytes: u64(ws), UsageBytes: u64(usage),
		RssBytes: u64(rss), PageFaults: u64(faults), MajorPageFaults: u64(majors),
	}
	if limit > 0 {
		m.AvailableBytes = u64(subFloor(limit, ws))
	}
	return m
}

func subFloor(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// containerStats reads one container's cgroup and writable layer; the raw
// figures come back too, for the pod's sums and the metrics.
func (s *Service) containerStats(r *container.Record) (*runtimeapi.ContainerStats, container.Usage, error) {
	u, err := s.containers.Usage(r)
	if err != nil {
		return nil, u, err
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
		st.Memory = memoryUsage(ts, u.MemoryWorkingSet, u.MemoryUsage, u.MemoryRSS, u.PageFaults, u.MajorPageFaults, u.MemoryLimit)
	}
	return st, u, nil
}

// statsOrSkip reads one container's stats for a list: a container removed
// meanwhile is skipped; any other failure fails the list, as in containerd,
// rather than hiding the container.
func (s *Service) statsOrSkip(r *container.Record) (*runtimeapi.ContainerStats, container.Usage, bool, error) {
	st, u, err := s.containerStats(r)
	if err == nil {
		return st, u, true, nil
	}
	if _, gerr := s.containers.Get(r.ID); gerr != nil {
		return nil, u, false, nil
	}
	return nil, u, false, err
}

// ContainerStats reports one container's resource use.
func (s *Service) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	r, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	st, _, err := s.containerStats(r)
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ContainerStatsResponse{Stats: st}, nil
}

// ListContainerStats reports the resource use of the containers the
// filter selects.
func (s *Service) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	out, err := s.listContainerStats(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListContainerStatsResponse{Stats: out}, nil
}

// StreamContainerStats is ListContainerStats in batches.
func (s *Service) StreamContainerStats(req *runtimeapi.StreamContainerStatsRequest, stream runtimeapi.RuntimeService_StreamContainerStatsServer) error {
	out, err := s.listContainerStats(req.GetFilter())
	if err != nil {
		return err
	}
	return sendBatches(out, func(b []*runtimeapi.ContainerStats) error {
		return stream.Send(&runtimeapi.StreamContainerStatsResponse{ContainerStats: b})
	})
}

func (s *Service) listContainerStats(f *runtimeapi.ContainerStatsFilter) ([]*runtimeapi.ContainerStats, error) {
	var out []*runtimeapi.ContainerStats
	for _, r := range s.containers.List() {
		if f.GetId() != "" && !strings.HasPrefix(r.ID, f.GetId()) ||
			f.GetPodSandboxId() != "" && !strings.HasPrefix(r.SandboxID, f.GetPodSandboxId()) ||
			!labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		st, _, ok, err := s.statsOrSkip(r)
		if err != nil {
			return nil, toStatus(err)
		}
		if ok {
			out = append(out, st)
		}
	}
	return out, nil
}

// sendBatches sends items in messages of at most streamBatch, each item
// once, as the Stream* list RPCs promise; an empty list sends nothing.
func sendBatches[T any](items []T, send func([]T) error) error {
	for len(items) > 0 {
		n := min(streamBatch, len(items))
		if err := send(items[:n]); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}
