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
	blkioLabels = append(append([]string{}, baseLabels...), "device", "major", "minor", "operation")
	faultLabels = append(append([]string{}, baseLabels...), "failure_type", "scope")
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
	mCFSPeriods  = metricDef{"container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", baseLabels, counter}
	mCFSThrottle = metricDef{"container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", baseLabels, counter}
	mCFSThrSecs  = metricDef{"container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled, in whole seconds.", baseLabels, counter}
	mSpecPeriod  = metricDef{"container_spec_cpu_period", "CPU period of the container, in microseconds.", baseLabels, gauge}
	mSpecShares  = metricDef{"container_spec_cpu_shares", "CPU share of the container.", baseLabels, gauge}
	mMemUsage    = metricDef{"container_memory_usage_bytes", "Current memory usage, including all memory regardless of when it was accessed.", baseLabels, gauge}
	mMemWS       = metricDef{"container_memory_working_set_bytes", "Current working set: usage minus inactive file cache.", baseLabels, gauge}
	mMemRSS      = metricDef{"container_memory_rss", "Size of RSS (anonymous memory).", baseLabels, gauge}
	mMemCache    = metricDef{"container_memory_cache", "Page cache memory.", baseLabels, gauge}
	mMemMapped   = metricDef{"container_memory_mapped_file", "Size of memory-mapped files.", baseLabels, gauge}
	mMemSwap     = metricDef{"container_memory_swap", "Swap usage.", baseLabels, gauge}
	mMemMaxUsage = metricDef{"container_memory_max_usage_bytes", "Maximum memory usage recorded.", baseLabels, gauge}
	mMemFailcnt  = metricDef{"container_memory_failcnt", "Number of times memory usage hit the limit.", baseLabels, counter}
	mMemKernel   = metricDef{"container_memory_kernel_usage", "Size of kernel memory allocated by the container.", baseLabels, gauge}
	mMemFailures = metricDef{"container_memory_failures_total", "Cumulative count of memory allocation failures (page faults).", faultLabels, counter}
	mSwapLimit   = metricDef{"container_spec_memory_swap_limit_bytes", "Memory and swap limit (v1) or swap limit (v2) of the container, 0 when none.", baseLabels, gauge}
	mOOMEvents   = metricDef{"container_oom_events_total", "Count of out-of-memory kills in the container.", baseLabels, counter}
	mMemLimit    = metricDef{"container_spec_memory_limit_bytes", "Memory limit of the container, 0 when it has none.", baseLabels, gauge}
	mProcesses   = metricDef{"container_processes", "Number of processes running inside the container.", baseLabels, gauge}
	mThreads     = metricDef{"container_threads", "Number of threads running inside the container.", baseLabels, gauge}
	mThreadsMax  = metricDef{"container_threads_max", "Maximum number of threads allowed inside the container, 0 when unlimited.", baseLabels, gauge}
	mStartTime   = metricDef{"container_start_time_seconds", "Start time of the container since unix epoch in seconds.", baseLabels, gauge}
	mLastSeen    = metricDef{"container_last_seen", "Last time the container was seen by the runtime, since unix epoch in seconds.", baseLabels, gauge}
	mFDs         = metricDef{"container_file_descriptors", "Number of open file descriptors of the container's processes.", baseLabels, gauge}
	mSockets     = metricDef{"container_sockets", "Number of open sockets of the container's processes.", baseLabels, gauge}
	mFsUsage     = metricDef{"container_fs_usage_bytes", "Bytes used by the container's writable layer on its filesystem.", fsLabels, gauge}
	mFsLimit     = metricDef{"container_fs_limit_bytes", "Size of the filesystem holding the container's writable layer.", fsLabels, gauge}
	mFsInodes    = metricDef{"container_fs_inodes_total", "Inodes of the filesystem holding the container's writable layer.", fsLabels, gauge}
	mFsInodesFr  = metricDef{"container_fs_inodes_free", "Free inodes of the filesystem holding the container's writable layer.", fsLabels, gauge}
	mFsRdBytes   = metricDef{"container_fs_reads_bytes_total", "Cumulative count of bytes read from a block device.", fsLabels, counter}
	mFsReads     = metricDef{"container_fs_reads_total", "Cumulative count of reads completed on a block device.", fsLabels, counter}
	mFsWrBytes   = metricDef{"container_fs_writes_bytes_total", "Cumulative count of bytes written to a block device.", fsLabels, counter}
	mFsWrites    = metricDef{"container_fs_writes_total", "Cumulative count of writes completed on a block device.", fsLabels, counter}
	mBlkio       = metricDef{"container_blkio_device_usage_total", "Block I/O by device and operation, in bytes.", blkioLabels, counter}
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
	mCPUUsage, mCPUUser, mCPUSystem, mCFSPeriods, mCFSThrottle, mCFSThrSecs, mSpecPeriod, mSpecShares,
	mMemUsage, mMemWS, mMemRSS, mMemCache, mMemMapped, mMemSwap, mMemMaxUsage, mMemFailcnt, mMemKernel, mMemFailures,
	mOOMEvents, mMemLimit, mSwapLimit,
	mProcesses, mThreads, mThreadsMax, mFDs, mSockets, mStartTime, mLastSeen,
	mFsUsage, mFsLimit, mFsInodes, mFsInodesFr, mFsRdBytes, mFsReads, mFsWrBytes, mFsWrites, mBlkio,
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
