// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Init containers run one at a time, in order, each to completion, before
// the app container starts: each appends its name to a shared emptyDir
// after checking its predecessor finished (its "done" line is there), and
// the app prints what it finds.
func TestInitContainersRunInOrder(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ordered}
spec:
  restartPolicy: Never
  initContainers:
  - name: first
    image: ` + busybox + `
    # Slow, so that a second init container started early would see no "first done".
    command: [sh, -c, 'echo "first start" >> /work/order; sleep 2; echo "first done" >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: ` + busybox + `
    command: [sh, -c, 'tail -n1 /work/order | grep -qx "first done" || exit 7; echo "second start" >> /work/order; echo "second done" >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  - name: third
    image: ` + busybox + `
    command: [sh, -c, 'tail -n1 /work/order | grep -qx "second done" || exit 7; echo "third start" >> /work/order; echo "third done" >> /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'echo "app start" >> /work/order; cat /work/order']
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - {name: work, emptyDir: {}}
`)
	p := n.waitPod("ordered", 2*time.Minute, podPhase(corev1.PodSucceeded))
	out, err := n.logs("ordered", "app", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"first start", "first done", "second start", "second done", "third start", "third done", "app start"}
	if got := lines(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("the app saw the order %q, want %q", got, want)
	}
	// Each init container completed, and the next started after it ended.
	var prevEnd time.Time
	for _, name := range []string{"first", "second", "third"} {
		cs := containerStatus(t, p, name)
		term := cs.State.Terminated
		if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
			t.Fatalf("init container %s: %s", name, containerStates(p))
		}
		if term.StartedAt.Time.Before(prevEnd) {
			t.Errorf("init container %s started at %v, before its predecessor finished at %v", name, term.StartedAt, prevEnd)
		}
		prevEnd = term.FinishedAt.Time
	}
	if app := containerStatus(t, p, "app").State.Terminated; app == nil || app.StartedAt.Time.Before(prevEnd) {
		t.Errorf("app started before the last init container finished (%v): %s", prevEnd, containerStates(p))
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodInitialized && c.Status != corev1.ConditionTrue {
			t.Errorf("condition Initialized %s", c.Status)
		}
	}
}

// With restartPolicy Never, an init container that fails fails the pod:
// phase Failed, the failed init container's exit code reported, and neither
// the next init container nor the app container ever run.
func TestInitContainerFailureFailsPod(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  restartPolicy: Never
  initContainers:
  - name: fails
    image: ` + busybox + `
    command: [sh, -c, 'echo "about to fail"; exit 3']
  - name: after
    image: ` + busybox + `
    command: ["true"]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	p := n.waitPod("broken", 2*time.Minute, podPhase(corev1.PodFailed))
	fails := containerStatus(t, p, "fails")
	if term := fails.State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("failed init container: %s", containerStates(p))
	}
	if fails.RestartCount != 0 {
		t.Errorf("init container restarted %d times under restartPolicy Never", fails.RestartCount)
	}
	for _, name := range []string{"after", "app"} {
		cs := containerStatus(t, p, name)
		if cs.State.Running != nil || cs.ContainerID != "" {
			t.Errorf("container %s was created (%q) after an init container failed: %s", name, cs.ContainerID, containerStates(p))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodInitialized && c.Status == corev1.ConditionTrue {
			t.Errorf("condition Initialized True with a failed init container")
		}
	}
	if out, err := n.logs("broken", "fails", false); err != nil || len(lines(out)) == 0 || lines(out)[0] != "about to fail" {
		t.Errorf("logs of the failed init container: %q, %v", out, err)
	}
}
