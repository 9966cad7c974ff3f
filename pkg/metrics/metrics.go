// SPDX-License-Identifier: Apache-2.0

// Package metrics holds podshim's Prometheus metrics. Each metric is a
// package variable that the code where its event happens updates through
// the small functions below; Handler registers them all, once, into a
// registry of podshim's own (never the global one), for the daemon to
// serve when metrics_address is set. Updating costs an atomic add, so the
// events are counted whether or not anything scrapes them.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "podshim"

// Latency buckets from 1 ms to about 2 min: CRI calls range from list RPCs
// (microseconds) to pulls and stops with grace periods (a minute or more).
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 14)

var (
	criDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "cri", Name: "request_duration_seconds",
		Help:    "Time to answer a CRI request, by method.",
		Buckets: latencyBuckets,
	}, []string{"method"})
	criRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "cri", Name: "requests_total",
		Help: "CRI requests answered, by method and gRPC status code.",
	}, []string{"method", "code"})
	criErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "cri", Name: "request_errors_total",
		Help: "CRI requests answered with an error, by method and gRPC status code.",
	}, []string{"method", "code"})

	imagePulls = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "image", Name: "pulls_total",
		Help: "Image pulls requested (PullImage).",
	})
	imagePullFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "image", Name: "pull_failures_total",
		Help: "Image pulls that failed.",
	})
	imagePullDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "image", Name: "pull_duration_seconds",
		Help:    "Time a successful image pull took.",
		Buckets: latencyBuckets,
	})
	imagePullBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "image", Name: "pull_bytes_total",
		Help: "Bytes of image content (manifests, configs, layers) fetched from registries.",
	})
	gcFreedBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "image", Name: "gc_freed_bytes_total",
		Help: "Bytes of blobs and unpacked layers the image store deleted because no image used them.",
	})

	cniDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "cni", Name: "operation_duration_seconds",
		Help:    "Time a CNI operation on a pod's network took, by operation (ADD, DEL).",
		Buckets: latencyBuckets,
	}, []string{"operation"})
	cniFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "cni", Name: "operation_failures_total",
		Help: "CNI operations that failed, by operation (ADD, DEL).",
	}, []string{"operation"})

	monitorStarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "monitor", Name: "starts_total",
		Help: "Per-pod monitors started, by result (ok, failed). The daemon never restarts a monitor: a pod's monitor starts once, with the pod.",
	}, []string{"result"})
	monitorsLost = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "monitor", Name: "lost_total",
		Help: "Containers whose pod's monitor was gone (killed, or the node rebooted) before it recorded their exit.",
	})
	containerExits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "container", Name: "exits_total",
		Help: "Container exits reported, by reason (Completed, Error, OOMKilled, Unknown when the monitor was lost).",
	}, []string{"reason"})
)

// all lists every metric above, for Handler.
func all() []prometheus.Collector {
	return []prometheus.Collector{
		criDuration, criRequests, criErrors,
		imagePulls, imagePullFailures, imagePullDuration, imagePullBytes, gcFreedBytes,
		cniDuration, cniFailures,
		monitorStarts, monitorsLost, containerExits,
	}
}

// ImagePull records one PullImage: its duration when it succeeded.
func ImagePull(start time.Time, err error) {
	imagePulls.Inc()
	if err != nil {
		imagePullFailures.Inc()
		return
	}
	imagePullDuration.Observe(time.Since(start).Seconds())
}

// PullBytes counts n bytes fetched from a registry.
func PullBytes(n int) {
	if n > 0 {
		imagePullBytes.Add(float64(n))
	}
}

// GCFreed counts bytes the image store's garbage collection deleted.
func GCFreed(n uint64) { gcFreedBytes.Add(float64(n)) }

// CNI records one CNI operation ("ADD" or "DEL") on a pod's network.
func CNI(operation string, start time.Time, err error) {
	cniDuration.WithLabelValues(operation).Observe(time.Since(start).Seconds())
	if err != nil {
		cniFailures.WithLabelValues(operation).Inc()
	}
}

// MonitorStarted records the start of a pod's monitor.
func MonitorStarted(err error) {
	result := "ok"
	if err != nil {
		result = "failed"
	}
	monitorStarts.WithLabelValues(result).Inc()
}

// MonitorLost records a container whose monitor vanished before its exit.
func MonitorLost() { monitorsLost.Inc() }

// ContainerExit records a reported container exit.
func ContainerExit(reason string) {
	if reason == "" {
		reason = "Unknown"
	}
	containerExits.WithLabelValues(reason).Inc()
}
