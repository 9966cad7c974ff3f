// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func scrape(t *testing.T, s *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// value is the metric's value (a histogram's count) with exactly these labels.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
next:
	for _, m := range f.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
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

func TestServedMetricsMoveWithEvents(t *testing.T) {
	s, err := Serve("127.0.0.1:0", States{
		Pods:       func() map[string]int { return map[string]int{"ready": 2, "notready": 1} },
		Containers: func(context.Context) map[string]int { return map[string]int{"running": 3} },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := scrape(t, s)

	info := &grpc.UnaryServerInfo{FullMethod: "/runtime.v1.RuntimeService/ContainerStatus"}
	UnaryInterceptor(context.Background(), nil, info, func(context.Context, any) (any, error) {
		return nil, status.Error(codes.NotFound, "no such container")
	})
	UnaryInterceptor(context.Background(), nil, info, func(context.Context, any) (any, error) { return "ok", nil })
	ImagePull(time.Now(), nil)
	ImagePull(time.Now(), errors.New("unreachable"))
	PullBytes(1000)
	CNI("ADD", time.Now(), nil)
	CNI("DEL", time.Now(), errors.New("plugin failed"))
	MonitorStarted(nil)
	ContainerExit("OOMKilled")
	GCFreed(4096)

	after := scrape(t, s)
	for _, c := range []struct {
		name   string
		labels map[string]string
		delta  float64
	}{
		{"podshim_cri_request_duration_seconds", map[string]string{"method": "ContainerStatus"}, 2},
		{"podshim_cri_requests_total", map[string]string{"method": "ContainerStatus", "code": "NotFound"}, 1},
		{"podshim_cri_requests_total", map[string]string{"method": "ContainerStatus", "code": "OK"}, 1},
		{"podshim_cri_request_errors_total", map[string]string{"method": "ContainerStatus", "code": "NotFound"}, 1},
		{"podshim_image_pulls_total", nil, 2},
		{"podshim_image_pull_failures_total", nil, 1},
		{"podshim_image_pull_duration_seconds", nil, 1},
		{"podshim_image_pull_bytes_total", nil, 1000},
		{"podshim_cni_operation_duration_seconds", map[string]string{"operation": "ADD"}, 1},
		{"podshim_cni_operation_failures_total", map[string]string{"operation": "DEL"}, 1},
		{"podshim_monitor_starts_total", map[string]string{"result": "ok"}, 1},
		{"podshim_container_exits_total", map[string]string{"reason": "OOMKilled"}, 1},
		{"podshim_image_gc_freed_bytes_total", nil, 4096},
	} {
		if got := value(after, c.name, c.labels) - value(before, c.name, c.labels); got != c.delta {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.delta)
		}
	}
	if value(after, "podshim_cri_request_errors_total", map[string]string{"method": "ContainerStatus", "code": "OK"}) != 0 {
		t.Error("a successful call counted as an error")
	}
	if v := value(after, "podshim_pods", map[string]string{"state": "ready"}); v != 2 {
		t.Errorf("podshim_pods{ready} = %v", v)
	}
	if v := value(after, "podshim_containers", map[string]string{"state": "running"}); v != 3 {
		t.Errorf("podshim_containers{running} = %v", v)
	}
	if after["process_resident_memory_bytes"] == nil || after["go_goroutines"] == nil {
		t.Error("process and Go metrics missing")
	}
}

// Two servers in one process (two daemons in a test binary) both work.
func TestServeTwice(t *testing.T) {
	for i := 0; i < 2; i++ {
		s, err := Serve("127.0.0.1:0", States{})
		if err != nil {
			t.Fatal(err)
		}
		scrape(t, s)
		s.Close()
	}
}
