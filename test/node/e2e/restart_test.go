// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// podshim restarted under a running cluster — an upgrade (SIGTERM) or a
// crash (SIGKILL) — takes no pod down: no container restarts, the same
// container IDs, logs that kept flowing, and the node stays Ready. Not
// parallel: the runtime is down for every test meanwhile.
func TestPodshimRestartKeepsPodsRunning(t *testing.T) {
	for _, mode := range []struct {
		name string
		kill bool
	}{{"SIGTERM", false}, {"SIGKILL", true}} {
		t.Run(mode.name, func(t *testing.T) {
			n := newNS(t)
			n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: ticker
    image: ` + busybox + `
    command: [sh, -c, "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"]
    readinessProbe:
      exec: {command: ["true"]}
      periodSeconds: 1
`)
			before := n.waitPod("ticker", 2*time.Minute, podReady)
			id := before.Status.ContainerStatuses[0].ContainerID

			node.StopPodshim(mode.kill)
			// Down long enough for the kubelet to notice (its relist runs
			// every second) and for the container to log meanwhile.
			time.Sleep(5 * time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := node.StartPodshim(ctx); err != nil {
				t.Fatal(err)
			}

			after := n.waitPod("ticker", 2*time.Minute, podReady)
			cs := after.Status.ContainerStatuses[0]
			if cs.RestartCount != 0 || cs.ContainerID != id {
				t.Errorf("after the restart: restarts %d, id %s (was %s)", cs.RestartCount, cs.ContainerID, id)
			}
			if after.Status.StartTime == nil || !after.Status.StartTime.Equal(before.Status.StartTime) {
				t.Errorf("pod start time changed: %v → %v", before.Status.StartTime, after.Status.StartTime)
			}
			// The monitor kept writing the log while the daemon was down:
			// the tick numbers have no gap of the outage's length.
			logs := n.kubectl("", "logs", "ticker")
			if gap := longestTickGap(logs); gap > 2 {
				t.Errorf("log lost lines while podshim was down: a gap of %d ticks", gap)
			}
			eventually(t, time.Minute, "node Ready", nodeReady)
			// And the runtime serves this pod again: exec works once the
			// kubelet's connection to the runtime has redialled (its gRPC
			// backoff, as with any runtime).
			eventually(t, 2*time.Minute, "exec after the restart", func() error {
				out, err := n.kubectlErr("", "exec", "ticker", "--", "echo", "alive")
				if err != nil {
					return err
				}
				if strings.TrimSpace(out) != "alive" {
					return fmt.Errorf("exec printed %q", out)
				}
				return nil
			})
			// No new sandbox was made for the pod.
			var sandboxes int
			out, err := node.Crictl(ctx, "pods", "-q", "--namespace", n.name, "--name", "ticker")
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l != "" {
					sandboxes++
				}
			}
			if sandboxes != 1 {
				t.Errorf("%d sandboxes for the pod after the restart, want 1", sandboxes)
			}
		})
	}
}

// longestTickGap parses "tick N" lines and returns the largest jump
// between consecutive numbers.
func longestTickGap(logs string) int {
	prev, gap := -1, 0
	for _, line := range strings.Split(logs, "\n") {
		var n int
		if _, err := fmt.Sscanf(line, "tick %d", &n); err != nil {
			continue
		}
		if prev >= 0 && n-prev > gap {
			gap = n - prev
		}
		prev = n
	}
	return gap
}
