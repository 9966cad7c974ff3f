// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The label sets of the metrics, named as cAdvisor names them, so that
// dashboards written for the kubelet's /metrics/cadvisor keep working when
// the kubelet takes the metrics from the runtime (PodAndContainerStatsFromCRI).
var (
	baseLabels  = []string{"container", "id", "image", "name", "namespace", "pod"}
	netLabels   = append(append([]string{}, baseLabels...), "interface")
	fsLabels    = append(append([]string{}, baseLabels...), "device")
	counter     = runtimeapi.MetricType_COUNTER
	gauge       = runtimeapi.MetricType_GAUGE
	podInfraTag = "POD" // the container label of pod-level metrics, as for cAdvisor's pause
)

// metricDef is one metric podshim serves.
type metricDef struct {
	name, help string
	labels     []string
	kind       runtimeapi.MetricType
}

// The metrics, in one place: ListMetricDescriptors reports exactly these,
// and ListPodSandboxMetrics only names these (the kubelet drops any other).
// Each comes from a figure the kernel keeps; nothing is estimated.
var (
	mCPUUsage    = metricDef{"container_cpu_usage_seconds_total", "Cumulative CPU time consumed, in whole seconds.", baseLabels, counter}
	mCPUUser     = metricDef{"container_cpu_user_seconds_total", "Cumulative user CPU time consumed, in whole seconds.", baseLabels, counter}
	mCPUSystem   = metricDef{"container_cpu_system_seconds_total", "Cumulative system CPU time consumed, in whole seconds.", baseLabels, counter}
	mMemUsage    = metricDef{"container_memory_usage_bytes", "Current memory usage, including all memory regardless of when it was accessed.", baseLabels, gauge}
	mMemWS       = metricDef{"container_memory_working_set_bytes", "Current working set: usage minus inactive file cache.", baseLabels, gauge}
	mMemRSS      = metricDef{"container_memory_rss", "Size of RSS (anonymous memory).", baseLabels, gauge}
	mMemCache    = metricDef{"container_memory_cache", "Page cache memory.", baseLabels, gauge}
	mMemMapped   = metricDef{"container_memory_mapped_file", "Size of memory-mapped files.", baseLabels, gauge}
	mMemSwap     = metricDef{"container_memory_swap", "Swap usage.", baseLabels, gauge}
	mMemMaxUsage = metricDef{"container_memory_max_usage_bytes", "Maximum memory usage recorded.", baseLabels, gauge}
	mMemFailcnt  = metricDef{"container_memory_failcnt", "Number of times memory usage hit the limit.", baseLabels, counter}
	mOOMEvents   = metricDef{"container_oom_events_total", "Count of out-of-memory kills in the container.", baseLabels, counter}
	mMemLimit    = metricDef{"container_spec_memory_limit_bytes", "Memory limit of the container, 0 when it has none.", baseLabels, gauge}
	mProcesses   = metricDef{"container_processes", "Number of processes running inside the container.", baseLabels, gauge}
	mThreads     = metricDef{"container_threads", "Number of threads running inside the container.", baseLabels, gauge}
	mThreadsMax  = metricDef{"container_threads_max", "Maximum number of threads allowed inside the container, 0 when unlimited.", baseLabels, gauge}
	mStartTime   = metricDef{"container_start_time_seconds", "Start time of the container since unix epoch in seconds.", baseLabels, gauge}
	mLastSeen    = metricDef{"container_last_seen", "Last time the container was seen by the runtime, since unix epoch in seconds.", baseLabels, gauge}
	mFsUsage     = metricDef{"container_fs_usage_bytes", "Bytes used by the container's writable layer on its filesystem.", fsLabels, gauge}
	mRxBytes     = metricDef{"container_network_receive_bytes_total", "Cumulative count of bytes received.", netLabels, counter}
	mRxPackets   = metricDef{"container_network_receive_packets_total", "Cumulative count of packets received.", netLabels, counter}
	mRxErrors    = metricDef{"container_network_receive_errors_total", "Cumulative count of errors encountered while receiving.", netLabels, counter}
	mRxDropped   = metricDef{"container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving.", netLabels, counter}
	mTxBytes     = metricDef{"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted.", netLabels, counter}
	mTxPackets   = metricDef{"container_network_transmit_packets_total", "Cumulative count of packets transmitted.", netLabels, counter}
	mTxErrors    = metricDef{"container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting.", netLabels, counter}
	mTxDropped   = metricDef{"container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting.", netLabels, counter}
)

var allMetrics = []metricDef{
	mCPUUsage, mCPUUser, mCPUSystem,
	mMemUsage, mMemWS, mMemRSS, mMemCache, mMemMapped, mMemSwap, mMemMaxUsage, mMemFailcnt, mOOMEvents, mMemLimit,
	mProcesses, mThreads, mThreadsMax, mStartTime, mLastSeen,
	mFsUsage,
	mRxBytes, mRxPackets, mRxErrors, mRxDropped, mTxBytes, mTxPackets, mTxErrors, mTxDropped,
}

// ListMetricDescriptors describes every metric ListPodSandboxMetrics may
// report. The list is fixed: the kubelet reads it once, at start.
func (s *Service) ListMetricDescriptors(ctx context.Context, req *runtimeapi.ListMetricDescriptorsRequest) (*runtimeapi.ListMetricDescriptorsResponse, error) {
	out := make([]*runtimeapi.MetricDescriptor, 0, len(allMetrics))
	for _, m := range allMetrics {
		out = append(out, &runtimeapi.MetricDescriptor{Name: m.name, Help: m.help, LabelKeys: m.labels})
	}
	return &runtimeapi.ListMetricDescriptorsResponse{Descriptors: out}, nil
}
