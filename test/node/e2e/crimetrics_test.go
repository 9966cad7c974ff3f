// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// criSummary is the part of /stats/summary that only a runtime serving
// the pod's own figures fills in when PodAndContainerStatsFromCRI is on.
type criSummary struct {
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		CPU *struct {
			UsageNanoCores *uint64 `json:"usageNanoCores"`
		} `json:"cpu"`
		Memory  *memAvail `json:"memory"`
		Network *struct {
			Name       string  `json:"name"`
			RxBytes    *uint64 `json:"rxBytes"`
			TxBytes    *uint64 `json:"txBytes"`
			Interfaces []struct {
				Name string `json:"name"`
			} `json:"interfaces"`
		} `json:"network"`
		ProcessStats *struct {
			ProcessCount *uint64 `json:"process_count"`
		} `json:"process_stats"`
		Containers []struct {
			Name   string    `json:"name"`
			Memory *memAvail `json:"memory"`
		} `json:"containers"`
	} `json:"pods"`
}

type memAvail struct {
	AvailableBytes  *uint64 `json:"availableBytes"`
	WorkingSetBytes *uint64 `json:"workingSetBytes"`
}

// sample is one line of the Prometheus text format.
type sample struct {
	labels map[string]string
	value  float64
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$`)
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// samples parses the Prometheus text exposition into samples by name.
func samples(text string) map[string][]sample {
	out := map[string][]sample{}
	for _, line := range strings.Split(text, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		l := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			l[p[1]] = p[2]
		}
		out[m[1]] = append(out[m[1]], sample{labels: l, value: v})
	}
	return out
}

// find returns the value of the sample of name whose labels include want.
func find(s map[string][]sample, name string, want map[string]string) (float64, bool) {
next:
	for _, x := range s[name] {
		for k, v := range want {
			if x.labels[k] != v {
				continue next
			}
		}
		return x.value, true
	}
	return 0, false
}

// With PodAndContainerStatsFromCRI the kubelet takes pod and container
// stats from the runtime alone: /stats/summary shows the pod's traffic on
// eth0, its process count, the memory left under its limits and its CPU
// rate, all from podshim; /metrics/cadvisor shows the cAdvisor-named
// metrics podshim serves for the pod's container and network.
func TestCRIStatsAndMetricsThroughTheKubelet(t *testing.T) {
	if !featureGates(os.Getenv("NODE_E2E_FEATURE_GATES"))["PodAndContainerStatsFromCRI"] {
		t.Skip("the PodAndContainerStatsFromCRI gate is off (NODE_E2E_FEATURE_GATES=PodAndContainerStatsFromCRI=true turns it on)")
	}
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: ` + nginx + `
    resources:
      limits: {memory: 80Mi}
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
`)
	p := n.waitPod("web", 2*time.Minute, podReady)
	// Traffic from the node to the pod, so its eth0 has counted bytes.
	url := fmt.Sprintf("http://%s:80/", p.Status.PodIP)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 3; i++ {
		eventually(t, time.Minute, "GET "+url, func() error {
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			return err
		})
	}

	eventually(t, 2*time.Minute, "CRI stats of pod web in /stats/summary", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := node.KubeletGet(ctx, "/stats/summary")
		if err != nil {
			return err
		}
		var s criSummary
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		for _, pod := range s.Pods {
			if pod.PodRef.Namespace != n.name || pod.PodRef.Name != "web" {
				continue
			}
			if pod.Network == nil || pod.Network.Name != "eth0" || !positive(pod.Network.RxBytes) || !positive(pod.Network.TxBytes) || len(pod.Network.Interfaces) == 0 {
				return fmt.Errorf("pod network %+v", pod.Network)
			}
			if pod.ProcessStats == nil || !positive(pod.ProcessStats.ProcessCount) {
				return fmt.Errorf("pod process stats %+v", pod.ProcessStats)
			}
			// The kubelet gives the pod cgroup the sum of its limits.
			if pod.Memory == nil || !positive(pod.Memory.AvailableBytes) || *pod.Memory.AvailableBytes > 80<<20 {
				return fmt.Errorf("pod memory %+v", pod.Memory)
			}
			// The runtime computes the pod's CPU rate between two of the
			// kubelet's lists (its eviction manager lists every 10 s).
			if pod.CPU == nil || pod.CPU.UsageNanoCores == nil {
				return fmt.Errorf("pod cpu %+v", pod.CPU)
			}
			if len(pod.Containers) != 1 {
				return fmt.Errorf("%d containers", len(pod.Containers))
			}
			c := pod.Containers[0].Memory
			if c == nil || !positive(c.AvailableBytes) || !positive(c.WorkingSetBytes) || *c.AvailableBytes+*c.WorkingSetBytes != 80<<20 {
				return fmt.Errorf("container memory %+v", c)
			}
			return nil
		}
		return fmt.Errorf("pod web not in the summary")
	})

	eventually(t, time.Minute, "metrics of pod web in /metrics/cadvisor", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := node.KubeletGet(ctx, "/metrics/cadvisor")
		if err != nil {
			return err
		}
		s := samples(string(raw))
		ctr := map[string]string{"namespace": n.name, "pod": "web", "container": "nginx"}
		for _, name := range []string{"container_memory_working_set_bytes", "container_memory_usage_bytes", "container_memory_rss",
			"container_threads", "container_processes", "container_start_time_seconds", "container_last_seen"} {
			if v, ok := find(s, name, ctr); !ok || v <= 0 {
				return fmt.Errorf("%s%v = %v (present: %v)", name, ctr, v, ok)
			}
		}
		if _, ok := find(s, "container_cpu_usage_seconds_total", ctr); !ok {
			return fmt.Errorf("no container_cpu_usage_seconds_total%v", ctr)
		}
		if v, ok := find(s, "container_spec_memory_limit_bytes", ctr); !ok || v != 80<<20 {
			return fmt.Errorf("container_spec_memory_limit_bytes%v = %v (present: %v)", ctr, v, ok)
		}
		net := map[string]string{"namespace": n.name, "pod": "web", "container": "POD", "interface": "eth0"}
		for _, name := range []string{"container_network_receive_bytes_total", "container_network_transmit_bytes_total"} {
			if v, ok := find(s, name, net); !ok || v <= 0 {
				return fmt.Errorf("%s%v = %v (present: %v)", name, net, v, ok)
			}
		}
		return nil
	})
}
