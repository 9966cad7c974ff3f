// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"fmt"
	"strconv"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/container"
)

// metricSet collects one owner's metrics under one set of base labels.
type metricSet struct {
	base []string
	out  []*runtimeapi.Metric
}

// add appends a metric; extra are the values of labels past the base set
// (interface, device). Timestamp 0 tells the kubelet the value was read
// on request, not cached.
func (m *metricSet) add(d metricDef, v uint64, extra ...string) {
	labels := append(append(make([]string, 0, len(m.base)+len(extra)), m.base...), extra...)
	m.out = append(m.out, &runtimeapi.Metric{Name: d.name, MetricType: d.kind, LabelValues: labels, Value: u64(v)})
}

// seconds turns nanoseconds into the whole seconds CRI metric values carry
// (a Metric's value is an integer).
func seconds(ns uint64) uint64 { return ns / uint64(time.Second) }

// podMetrics builds a pod's metrics from one sample: per running
// container its CPU, memory, processes and writable layer; for the pod
// (container "POD", as cAdvisor labels the pause) its interfaces.
func (s *Service) podMetrics(ps *podSample) (*runtimeapi.PodSandboxMetrics, error) {
	md := ps.pod.Config.GetMetadata()
	out := &runtimeapi.PodSandboxMetrics{PodSandboxId: ps.pod.ID}
	now := uint64(time.Now().Unix())
	for _, m := range ps.members {
		u := m.usage
		if !u.HasCgroup {
			continue // not running: cAdvisor shows only live containers
		}
		dir, err := s.containers.ContainerCgroup(m.rec)
		if err != nil {
			return nil, err
		}
		image := m.rec.Config.GetImage().GetUserSpecifiedImage()
		if image == "" {
			image = m.rec.ImageRef
		}
		set := metricSet{base: []string{m.rec.Config.GetMetadata().GetName(), dir, image, m.rec.ID, md.GetNamespace(), md.GetName()}}
		set.add(mCPUUsage, seconds(u.CPUNanos))
		set.add(mMemUsage, u.MemoryUsage)
		set.add(mMemWS, u.MemoryWorkingSet)
		set.add(mMemRSS, u.MemoryRSS)
		set.add(mMemCache, u.MemoryCache)
		set.add(mMemMapped, u.MemoryMappedFile)
		set.add(mMemSwap, u.MemorySwap)
		set.add(mMemLimit, u.MemoryLimit)
		set.add(mThreads, u.Tasks)
		set.add(mLastSeen, now)
		if m.rec.StartedAt > 0 {
			set.add(mStartTime, uint64(m.rec.StartedAt)/uint64(time.Second))
		}
		if fs, err := container.Filesystem(u.WritableMount); err == nil {
			set.add(mFsUsage, u.WritableBytes, fs.Device)
			set.add(mFsLimit, fs.Bytes, fs.Device)
			set.add(mFsInodes, fs.Inodes, fs.Device)
			set.add(mFsInodesFr, fs.InodesFree, fs.Device)
		}
		// The figures only metrics need; a container that stopped since
		// its stats were read simply has none, but a cgroup that is there
		// and cannot be read fails the list, as its stats would.
		d, ok, err := s.containers.Detail(dir)
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", m.rec.ID, err)
		}
		if ok {
			addDetail(&set, u, d)
		}
		out.ContainerMetrics = append(out.ContainerMetrics, &runtimeapi.ContainerMetrics{ContainerId: m.rec.ID, Metrics: set.out})
	}
	if ps.ifaces != nil {
		set := metricSet{base: []string{podInfraTag, ps.pod.CgroupsPath, "", ps.pod.ID, md.GetNamespace(), md.GetName()}}
		for _, i := range ps.ifaces {
			addInterface(&set, i)
		}
		out.Metrics = set.out
	}
	return out, nil
}

// addDetail adds the metrics of what only metrics read (CgroupDetail).
func addDetail(set *metricSet, u container.Usage, d container.CgroupDetail) {
	set.add(mCPUUser, seconds(d.CPUUserNanos))
	set.add(mCPUSystem, seconds(d.CPUSystemNanos))
	set.add(mCFSPeriods, d.CFSPeriods)
	set.add(mCFSThrottle, d.CFSThrottledPeriods)
	set.add(mCFSThrSecs, seconds(d.CFSThrottledNanos))
	set.add(mOOMEvents, d.OOMKills)
	set.add(mProcesses, d.Processes)
	set.add(mThreadsMax, d.TasksMax)
	set.add(mFDs, d.FDs)
	set.add(mSockets, d.Sockets)
	// As cAdvisor: faults of the cgroup itself and of its hierarchy.
	set.add(mMemFailures, d.PageFaultsLocal, "pgfault", "container")
	set.add(mMemFailures, d.MajorPageFaultsLocal, "pgmajfault", "container")
	set.add(mMemFailures, u.PageFaults, "pgfault", "hierarchy")
	set.add(mMemFailures, u.MajorPageFaults, "pgmajfault", "hierarchy")
	for _, o := range []struct {
		d metricDef
		v container.Optional
	}{{mSpecPeriod, d.CPUPeriod}, {mSpecShares, d.CPUShares}, {mMemMaxUsage, d.MemoryMaxUsage}, {mMemFailcnt, d.MemoryFailcnt}, {mMemKernel, d.MemoryKernel}, {mSwapLimit, d.SwapLimit}} {
		if o.v.Ok {
			set.add(o.d, o.v.Value)
		}
	}
	for _, io := range d.IO {
		name := io.DeviceName()
		set.add(mFsRdBytes, io.ReadBytes, name)
		set.add(mFsReads, io.Reads, name)
		set.add(mFsWrBytes, io.WriteBytes, name)
		set.add(mFsWrites, io.Writes, name)
		maj, min := strconv.FormatUint(io.Major, 10), strconv.FormatUint(io.Minor, 10)
		set.add(mBlkio, io.ReadBytes, name, maj, min, "Read")
		set.add(mBlkio, io.WriteBytes, name, maj, min, "Write")
	}
}

func addInterface(set *metricSet, i network.IfaceStats) {
	set.add(mRxBytes, i.RxBytes, i.Name)
	set.add(mRxPackets, i.RxPackets, i.Name)
	set.add(mRxErrors, i.RxErrors, i.Name)
	set.add(mRxDropped, i.RxDropped, i.Name)
	set.add(mTxBytes, i.TxBytes, i.Name)
	set.add(mTxPackets, i.TxPackets, i.Name)
	set.add(mTxErrors, i.TxErrors, i.Name)
	set.add(mTxDropped, i.TxDropped, i.Name)
}

func (s *Service) listPodMetrics() ([]*runtimeapi.PodSandboxMetrics, error) {
	samples, err := s.listPodSamples(nil)
	if err != nil {
		return nil, err
	}
	out := make([]*runtimeapi.PodSandboxMetrics, 0, len(samples))
	for _, ps := range samples {
		pm, err := s.podMetrics(ps)
		if err != nil {
			if _, gerr := s.sandboxes.Get(ps.pod.ID); gerr != nil {
				continue // removed meanwhile
			}
			return nil, toStatus(err)
		}
		out = append(out, pm)
	}
	return out, nil
}

// ListPodSandboxMetrics reports the cAdvisor-named metrics of every pod.
func (s *Service) ListPodSandboxMetrics(ctx context.Context, req *runtimeapi.ListPodSandboxMetricsRequest) (*runtimeapi.ListPodSandboxMetricsResponse, error) {
	out, err := s.listPodMetrics()
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListPodSandboxMetricsResponse{PodMetrics: out}, nil
}

// StreamPodSandboxMetrics is ListPodSandboxMetrics in batches.
func (s *Service) StreamPodSandboxMetrics(req *runtimeapi.StreamPodSandboxMetricsRequest, stream runtimeapi.RuntimeService_StreamPodSandboxMetricsServer) error {
	out, err := s.listPodMetrics()
	if err != nil {
		return err
	}
	return sendBatches(out, func(b []*runtimeapi.PodSandboxMetrics) error {
		return stream.Send(&runtimeapi.StreamPodSandboxMetricsResponse{PodSandboxMetrics: b})
	})
}
