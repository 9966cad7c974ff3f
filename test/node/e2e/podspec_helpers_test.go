// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Helpers of the probe, init container, volume and security context tests.

// execOut runs a command in a pod's container with kubectl exec and
// returns its stdout, failing the test on error.
func (n *ns) execOut(pod, container string, cmd ...string) string {
	n.t.Helper()
	return n.kubectl("", append([]string{"exec", pod, "-c", container, "--"}, cmd...)...)
}

// execErr is execOut returning the error instead.
func (n *ns) execErr(pod, container string, cmd ...string) (string, error) {
	return n.kubectlErr("", append([]string{"exec", pod, "-c", container, "--"}, cmd...)...)
}

// logs returns what kubectl logs shows of a container; previous asks for
// the instance before the current one.
func (n *ns) logs(pod, container string, previous bool) (string, error) {
	args := []string{"logs", pod, "-c", container}
	if previous {
		args = append(args, "--previous")
	}
	return n.kubectlErr("", args...)
}

// events lists the events about one object of the namespace with a reason.
func (n *ns) events(object, reason string) ([]corev1.Event, error) {
	out, err := n.kubectlErr("", "get", "events", "-o", "json",
		"--field-selector", "involvedObject.name="+object+",reason="+reason)
	if err != nil {
		return nil, err
	}
	var list corev1.EventList
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		return nil, fmt.Errorf("decode events: %w", err)
	}
	return list.Items, nil
}

// waitEvent waits for an event about object with reason whose message
// contains text, counted at least min times, and returns that count.
func (n *ns) waitEvent(object, reason, text string, min int32, timeout time.Duration) int32 {
	n.t.Helper()
	var count int32
	eventually(n.t, timeout, fmt.Sprintf("%s event %q on %s", reason, text, object), func() error {
		evs, err := n.events(object, reason)
		if err != nil {
			return err
		}
		count = 0
		var seen []string
		for _, e := range evs {
			seen = append(seen, e.Message)
			if strings.Contains(e.Message, text) {
				c := e.Count
				if e.Series != nil && e.Series.Count > c {
					c = e.Series.Count
				}
				if c == 0 {
					c = 1
				}
				count += c
			}
		}
		if count < min {
			return fmt.Errorf("seen %d times, want %d; events: %q", count, min, seen)
		}
		return nil
	})
	return count
}

// containerRunning is a waitPod condition: the named container runs.
func containerRunning(name string) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, cs := range list {
				if cs.Name == name && cs.State.Running != nil {
					return nil
				}
			}
		}
		return fmt.Errorf("container %s not running: phase %s, %s", name, p.Status.Phase, containerStates(p))
	}
}

// containerWaitingReason is a waitPod condition: the named container
// waits for reason.
func containerWaitingReason(name, reason string) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, cs := range list {
				if cs.Name == name && cs.State.Waiting != nil && cs.State.Waiting.Reason == reason {
					return nil
				}
			}
		}
		return fmt.Errorf("container %s not waiting with %s: phase %s, %s", name, reason, p.Status.Phase, containerStates(p))
	}
}

// isReady tells whether a pod's Ready condition is True.
func isReady(p *corev1.Pod) bool {
	return podReady(p) == nil
}

// lines splits output into its non-empty trimmed lines.
func lines(out string) []string {
	var l []string
	for _, s := range strings.Split(out, "\n") {
		if s = strings.TrimSpace(s); s != "" {
			l = append(l, s)
		}
	}
	return l
}
