// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/network"
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
func (s *Service) podMetrics(ps *podSample) *runtimeapi.PodSandboxMetrics {
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
			continue
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
		set.add(mFsUsage, u.WritableBytes, u.WritableMount)
		// The figures only metrics need; a container that stopped since
		// its stats were read simply has none.
		if d, ok, err := s.containers.Detail(dir); err == nil && ok {
			set.add(mCPUUser, seconds(d.CPUUserNanos))
			set.add(mCPUSystem, seconds(d.CPUSystemNanos))
			set.add(mOOMEvents, d.OOMKills)
			set.add(mProcesses, d.Processes)
			set.add(mThreadsMax, d.TasksMax)
			if d.HasMemoryMaxUsage {
				set.add(mMemMaxUsage, d.MemoryMaxUsage)
			}
			if d.HasMemoryFailcnt {
				set.add(mMemFailcnt, d.MemoryFailcnt)
			}
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
	return out
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
		out = append(out, s.podMetrics(ps))
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
