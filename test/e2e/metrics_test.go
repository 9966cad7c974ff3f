// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// scrapeMetrics reads the daemon's /metrics.
func scrapeMetrics(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// metricValue is a counter's or gauge's value, a histogram's sample count,
// with exactly the given labels; 0 when absent.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(want) {
			continue
		}
		for _, l := range m.Label {
			if want[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return 0
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// A pod's whole life, then the metrics: every counter it should move moved.
func TestMetricsAfterAPodLifecycle(t *testing.T) {
	addr := freeLoopbackAddr(t)
	e := newPodEnv(t, fmt.Sprintf("metrics_address = %q", addr))
	d := e.d

	m := scrapeMetrics(t, addr)
	if v := metricValue(m, "podshim_pods", "state", "ready"); v != 1 {
		t.Errorf("podshim_pods{state=ready} = %v with one pod running", v)
	}

	id := e.run(t, "done", "true")
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED)
	// The exit is counted by the daemon's exit watcher, which runs beside
	// the RPCs: wait for it (a bounded wait, not a timing assertion).
	deadline := time.Now().Add(30 * time.Second)
	for metricValue(m, "podshim_container_exits_total", "reason", "Completed") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("podshim_container_exits_total{reason=Completed} did not move after a container exited 0")
		}
		time.Sleep(100 * time.Millisecond)
		m = scrapeMetrics(t, addr)
	}
	if v := metricValue(m, "podshim_containers", "state", "exited"); v != 1 {
		t.Errorf("podshim_containers{state=exited} = %v", v)
	}

	// A failing pull and a call for something unknown: errors by code.
	if _, err := pull(t, d, e.image[:len(e.image)-len("busybox:1")]+"nothere:1", nil); err == nil {
		t.Fatal("pulling a missing image succeeded")
	}
	if _, err := d.rt.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: "nosuchcontainer"}); err == nil {
		t.Fatal("ContainerStatus of an unknown id succeeded")
	}

	// Tear everything down, then remove the image: its layers are freed.
	ctx := ctxT(t, 2*time.Minute)
	if _, err := d.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.images.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: e.image}}); err != nil {
		t.Fatal(err)
	}

	// The image's layers are freed a moment after RemoveImage (the
	// store's GC delay).
	m = scrapeMetrics(t, addr)
	for deadline := time.Now().Add(20 * time.Second); metricValue(m, "podshim_image_gc_freed_bytes_total") < 1 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		m = scrapeMetrics(t, addr)
	}
	for _, c := range []struct {
		name   string
		labels []string
		min    float64
	}{
		{"podshim_cri_request_duration_seconds", []string{"method", "RunPodSandbox"}, 1},
		{"podshim_cri_requests_total", []string{"method", "RunPodSandbox", "code", "OK"}, 1},
		{"podshim_cri_requests_total", []string{"method", "PullImage", "code", "OK"}, 1},
		{"podshim_cri_request_errors_total", []string{"method", "ContainerStatus", "code", "NotFound"}, 1},
		{"podshim_cri_request_errors_total", []string{"method", "PullImage", "code", "NotFound"}, 1},
		{"podshim_image_pulls_total", nil, 2},
		{"podshim_image_pull_failures_total", nil, 1},
		{"podshim_image_pull_duration_seconds", nil, 1},
		{"podshim_image_pull_bytes_total", nil, 1},
		{"podshim_cni_operation_duration_seconds", []string{"operation", "ADD"}, 1},
		{"podshim_cni_operation_duration_seconds", []string{"operation", "DEL"}, 1},
		{"podshim_monitor_starts_total", []string{"result", "ok"}, 1},
		{"podshim_container_exits_total", []string{"reason", "Completed"}, 1},
		{"podshim_image_gc_freed_bytes_total", nil, 1},
	} {
		if v := metricValue(m, c.name, c.labels...); v < c.min {
			t.Errorf("%s%v = %v, want at least %v", c.name, c.labels, v, c.min)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"podshim_cni_operation_failures_total", []string{"operation", "ADD"}},
		{"podshim_monitor_lost_total", nil},
		{"podshim_pods", []string{"state", "ready"}},
		{"podshim_containers", []string{"state", "exited"}},
	} {
		if v := metricValue(m, c.name, c.labels...); v != 0 {
			t.Errorf("%s%v = %v, want 0", c.name, c.labels, v)
		}
	}
	t.Logf("pull bytes %v, GC freed %v bytes", metricValue(m, "podshim_image_pull_bytes_total"), metricValue(m, "podshim_image_gc_freed_bytes_total"))
}
