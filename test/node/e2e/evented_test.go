// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// With the EventedPLEG gate on (make node-e2e-evented), the kubelet holds
// a GetContainerEvents stream open to podshim, and a container's exit
// reaches it as a CONTAINER_STOPPED event that makes it relist the pod at
// once. What a user sees is the pod finishing, as always; the test checks
// through the kubelet's own metrics (and its log, at -v=4) that the event
// path carried it.
func TestEventedPLEGSeesAContainerExit(t *testing.T) {
	if !featureGates(os.Getenv("NODE_E2E_FEATURE_GATES"))["EventedPLEG"] {
		t.Skip("the EventedPLEG gate is off (make node-e2e-evented turns it on)")
	}
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: quitter}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: quitter
    image: ` + busybox + `
    command: [sh, -c, "sleep 1; exit 0"]
`)
	p := n.waitPod("quitter", 2*time.Minute, podPhase(corev1.PodSucceeded))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := node.KubeletGet(ctx, "/metrics")
	if err != nil {
		t.Fatalf("the kubelet's /metrics: %v", err)
	}
	metrics := string(raw)
	if v := metricValue(metrics, "kubelet_evented_pleg_connection_success_count"); v < 1 {
		t.Fatalf("the kubelet never opened a GetContainerEvents stream: kubelet_evented_pleg_connection_success_count = %v", v)
	}
	if v := metricValue(metrics, "kubelet_evented_pleg_connection_latency_seconds_count"); v < 1 {
		t.Fatalf("the kubelet received no container event: kubelet_evented_pleg_connection_latency_seconds_count = %v", v)
	}
	if atoiOr(os.Getenv("NODE_E2E_KUBELET_V"), 2) < 4 {
		return
	}
	// At -v=4 the kubelet names each relist an event asked for.
	want := fmt.Sprintf(`"Evented PLEG: requested pod relist after container termination" podUID="%s"`, p.UID)
	eventually(t, time.Minute, "the kubelet's log of the relist the STOPPED event asked for", func() error {
		data, err := os.ReadFile(filepath.Join(node.LogDir(), "kubelet.log"))
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), want) {
			return fmt.Errorf("no %s in kubelet.log", want)
		}
		return nil
	})
}

// metricValue sums a Prometheus metric's samples in a text exposition
// (-1 when it is absent).
func metricValue(text, name string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `(\{[^}]*\})? (\S+)$`)
	total, found := 0.0, false
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if v, err := strconv.ParseFloat(m[2], 64); err == nil {
			total, found = total+v, true
		}
	}
	if !found {
		return -1
	}
	return total
}
