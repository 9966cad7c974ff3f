// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ns is a namespace of one test's own, removed when the test ends.
type ns struct {
	t    *testing.T
	name string
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// newNS makes a namespace named after the test and waits for its default
// service account, without which the API server refuses pods.
func newNS(t *testing.T) *ns {
	t.Helper()
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	base := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = base[:40]
	}
	n := &ns{t: t, name: base + "-" + hex.EncodeToString(suffix)}
	kubectl(t, "", "create", "namespace", n.name)
	t.Cleanup(func() {
		if t.Failed() {
			n.describe()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		_, _ = node.Kubectl(ctx, "", "delete", "namespace", n.name, "--wait=true", "--timeout=90s")
	})
	eventually(t, time.Minute, "default service account", func() error {
		_, err := n.kubectlErr("", "get", "serviceaccount", "default")
		return err
	})
	return n
}

// describe logs the namespace's pods and events, for a failed test.
func (n *ns) describe() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, _ := node.Kubectl(ctx, "", "-n", n.name, "describe", "pods")
	n.t.Logf("pods in %s:\n%s", n.name, out)
	out, _ = node.Kubectl(ctx, "", "-n", n.name, "get", "events", "--sort-by=.lastTimestamp")
	n.t.Logf("events in %s:\n%s", n.name, out)
}

// kubectl runs kubectl in the namespace and fails the test on error.
func (n *ns) kubectl(stdin string, args ...string) string {
	n.t.Helper()
	return kubectl(n.t, stdin, append([]string{"-n", n.name}, args...)...)
}

// kubectlErr runs kubectl in the namespace and returns its error.
func (n *ns) kubectlErr(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return node.Kubectl(ctx, stdin, append([]string{"-n", n.name}, args...)...)
}

// apply applies a manifest in the namespace.
func (n *ns) apply(manifest string) {
	n.t.Helper()
	n.kubectl(manifest, "apply", "-f", "-")
}

// pod reads a pod.
func (n *ns) pod(name string) *corev1.Pod {
	n.t.Helper()
	var p corev1.Pod
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "pod", name, "-o", "json")), &p); err != nil {
		n.t.Fatalf("decode pod %s: %v", name, err)
	}
	return &p
}

// waitPod polls a pod until cond holds; what cond returns is the reason it
// does not yet, reported if time runs out.
func (n *ns) waitPod(name string, timeout time.Duration, cond func(*corev1.Pod) error) *corev1.Pod {
	n.t.Helper()
	var p corev1.Pod
	eventually(n.t, timeout, "pod "+name, func() error {
		out, err := n.kubectlErr("", "get", "pod", name, "-o", "json")
		if err != nil {
			return err
		}
		p = corev1.Pod{}
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			return err
		}
		return cond(&p)
	})
	return &p
}

// podReady is a waitPod condition: the pod's Ready condition is True.
func podReady(p *corev1.Pod) error {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return nil
		}
	}
	return fmt.Errorf("not Ready: phase %s, %s", p.Status.Phase, containerStates(p))
}

// podPhase is a waitPod condition: the pod reached phase.
func podPhase(phase corev1.PodPhase) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		if p.Status.Phase == phase {
			return nil
		}
		return fmt.Errorf("phase %s, want %s: %s", p.Status.Phase, phase, containerStates(p))
	}
}

// containerStates summarises a pod's container states for messages.
func containerStates(p *corev1.Pod) string {
	var parts []string
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			s := fmt.Sprintf("%s(restarts %d, ready %v)", cs.Name, cs.RestartCount, cs.Ready)
			switch {
			case cs.State.Waiting != nil:
				s += " waiting " + cs.State.Waiting.Reason + ": " + cs.State.Waiting.Message
			case cs.State.Running != nil:
				s += " running"
			case cs.State.Terminated != nil:
				s += fmt.Sprintf(" terminated %s exit %d", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode)
			}
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// containerStatus finds a container's status in a pod, init or regular.
func containerStatus(t *testing.T, p *corev1.Pod, name string) corev1.ContainerStatus {
	t.Helper()
	cs, ok := findContainerStatus(p, name)
	if !ok {
		t.Fatalf("pod %s has no status for container %s", p.Name, name)
	}
	return cs
}

// findContainerStatus is containerStatus for polling conditions: a pod
// just created has no status for its containers yet, which is a reason
// to poll again, not a failure.
func findContainerStatus(p *corev1.Pod, name string) (corev1.ContainerStatus, bool) {
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, cs := range list {
			if cs.Name == name {
				return cs, true
			}
		}
	}
	return corev1.ContainerStatus{}, false
}

// kubectl runs kubectl and fails the test on error.
func kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := node.Kubectl(ctx, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually retries check once a second until it succeeds or timeout.
func eventually(t *testing.T, timeout time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v: %v", what, timeout, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Images from the loopback registry (podshim mirrors registry.k8s.io to it).
const (
	busybox = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
	nginx   = "registry.k8s.io/e2e-test-images/nginx:1.14-2"
)
