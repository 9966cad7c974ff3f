// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"reflect"
	"strings"
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

// Under restartPolicy Always (the default), a failing init container is
// run again until it succeeds, and only then the app starts. It fails on its
// first run only, counting its runs in an emptyDir.
func TestInitContainerRetriedUntilItSucceeds(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: retried}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: setup
    image: ` + busybox + `
    command: [sh, -c, 'echo run >> /work/runs; [ $(wc -l < /work/runs) -ge 2 ]']
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'wc -l < /work/runs; exec sleep 3600']
    volumeMounts: [{name: work, mountPath: /work}]
  volumes:
  - {name: work, emptyDir: {}}
`)
	p := n.waitPod("retried", 2*time.Minute, podReady)
	setup := containerStatus(t, p, "setup")
	if setup.RestartCount != 1 || setup.State.Terminated == nil || setup.State.Terminated.ExitCode != 0 {
		t.Errorf("init container: want one restart and success: %s", containerStates(p))
	}
	if last := setup.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
		t.Errorf("init container's failed run not reported: %+v", setup.LastTerminationState)
	}
	eventually(t, 30*time.Second, "app logs", func() error {
		out, err := n.logs("retried", "app", false)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "2" {
			return fmt.Errorf("app saw %q init runs, want 2", out)
		}
		return nil
	})
}

// A sidecar (an init container with restartPolicy Always) starts before
// the app, once its startup probe passes, and keeps running beside it; when
// the app of a restartPolicy Never pod ends, the sidecar is stopped and the
// pod Succeeds.
func TestInitSidecarRunsBesideApp(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: withsidecar}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: sidecar
    image: ` + busybox + `
    restartPolicy: Always
    command: [sh, -c, 'echo "sidecar up" > /shared/status; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    startupProbe:
      exec: {command: [cat, /shared/status]}
      periodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    # Runs until told to finish, so the test sees both running.
    command: [sh, -c, 'cat /shared/status; while [ ! -e /shared/finish ]; do sleep 0.2; done; echo "app done"']
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes:
  - {name: shared, emptyDir: {}}
`)
	p := n.waitPod("withsidecar", 2*time.Minute, func(p *corev1.Pod) error {
		if err := containerRunning("sidecar")(p); err != nil {
			return err
		}
		return containerRunning("app")(p)
	})
	if side, app := containerStatus(t, p, "sidecar"), containerStatus(t, p, "app"); app.State.Running.StartedAt.Before(&side.State.Running.StartedAt) {
		t.Errorf("app started at %v, before its sidecar at %v", app.State.Running.StartedAt, side.State.Running.StartedAt)
	}
	eventually(t, 30*time.Second, "app logs", func() error {
		out, err := n.logs("withsidecar", "app", false)
		if err != nil {
			return err
		}
		if l := lines(out); len(l) == 0 || l[0] != "sidecar up" {
			return fmt.Errorf("app printed %q, want the sidecar's status first", out)
		}
		return nil
	})
	n.execOut("withsidecar", "sidecar", "touch", "/shared/finish")
	p = n.waitPod("withsidecar", 2*time.Minute, podPhase(corev1.PodSucceeded))
	if app := containerStatus(t, p, "app").State.Terminated; app == nil || app.ExitCode != 0 {
		t.Errorf("app: %s", containerStates(p))
	}
	if side := containerStatus(t, p, "sidecar"); side.State.Terminated == nil {
		t.Errorf("sidecar not stopped after the app ended: %s", containerStates(p))
	}
}

// A sidecar that exits is started again, even in a restartPolicy Never
// pod, while the app keeps running untouched.
func TestInitSidecarRestartedWhenItExits(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: flakysidecar}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: sidecar
    image: ` + busybox + `
    restartPolicy: Always
    # The first instance exits once the app runs; later ones stay.
    command: [sh, -c, 'echo run >> /shared/sidecar-runs; if [ $(wc -l < /shared/sidecar-runs) -eq 1 ]; then until [ -e /shared/app-up ]; do sleep 0.2; done; exit 1; fi; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'touch /shared/app-up; exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
  volumes:
  - {name: shared, emptyDir: {}}
`)
	p := n.waitPod("flakysidecar", 2*time.Minute, func(p *corev1.Pod) error {
		side, _ := findContainerStatus(p, "sidecar")
		if side.RestartCount < 1 || side.State.Running == nil {
			return fmt.Errorf("sidecar not restarted and running: %s", containerStates(p))
		}
		return containerRunning("app")(p)
	})
	if last := containerStatus(t, p, "sidecar").LastTerminationState.Terminated; last == nil || last.ExitCode != 1 {
		t.Errorf("sidecar's exit not reported: %s", containerStates(p))
	}
	if app := containerStatus(t, p, "app"); app.RestartCount != 0 {
		t.Errorf("app restarted with its sidecar: %s", containerStates(p))
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running", p.Status.Phase)
	}
	if got := strings.TrimSpace(n.execOut("flakysidecar", "app", "wc", "-l", "/shared/sidecar-runs")); !strings.HasPrefix(got, "2") {
		t.Errorf("sidecar runs: %q, want 2", got)
	}
}
