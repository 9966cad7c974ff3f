// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// An in-place resize (kubectl patch --subresource resize) changes the
// running container's cgroup limits without a restart, and the pod status
// reports the new resources once the runtime has applied them.
func TestResizeInPlaceChangesCgroupWithoutRestart(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: resizable}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    resizePolicy:
    - {resourceName: cpu, restartPolicy: NotRequired}
    - {resourceName: memory, restartPolicy: NotRequired}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: 200m, memory: 128Mi}
`)
	n.waitPod("resizable", 2*time.Minute, podPhase(corev1.PodRunning))
	cgroup := func(file string) string {
		return strings.TrimSpace(n.kubectl("", "exec", "resizable", "--", "cat", file))
	}
	if q := cgroup("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); q != "20000" {
		t.Fatalf("cpu quota before the resize %s, want 20000 (200m of a 100ms period)", q)
	}
	if m := cgroup("/sys/fs/cgroup/memory/memory.limit_in_bytes"); m != fmt.Sprint(128<<20) {
		t.Fatalf("memory limit before the resize %s, want %d", m, 128<<20)
	}

	n.kubectl(`{"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"150m","memory":"96Mi"},"limits":{"cpu":"400m","memory":"256Mi"}}}]}}`,
		"patch", "pod", "resizable", "--subresource", "resize", "--type", "strategic", "--patch-file", "/dev/stdin")

	p := n.waitPod("resizable", 2*time.Minute, func(p *corev1.Pod) error {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodResizePending || c.Type == corev1.PodResizeInProgress {
				return fmt.Errorf("%s: %s %s", c.Type, c.Reason, c.Message)
			}
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.Resources == nil || cs.Resources.Limits.Cpu().MilliValue() != 400 || cs.Resources.Limits.Memory().Value() != 256<<20 {
			return fmt.Errorf("status resources %+v", cs.Resources)
		}
		return nil
	})
	if rc := p.Status.ContainerStatuses[0].RestartCount; rc != 0 {
		t.Errorf("the resize restarted the container %d times", rc)
	}
	if q := cgroup("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"); q != "40000" {
		t.Errorf("cpu quota after the resize %s, want 40000", q)
	}
	if m := cgroup("/sys/fs/cgroup/memory/memory.limit_in_bytes"); m != fmt.Sprint(256<<20) {
		t.Errorf("memory limit after the resize %s, want %d", m, 256<<20)
	}
	// cpu.shares follow the request: 150m is 153 shares.
	if s := cgroup("/sys/fs/cgroup/cpu/cpu.shares"); s != "153" {
		t.Errorf("cpu shares after the resize %s, want 153", s)
	}
}
