// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// A container whose liveness probe fails is killed and started again: its
// restart count grows, and `kubectl logs --previous` shows what the first
// instance printed while `kubectl logs` shows the new one. Each instance
// counts its start in an emptyDir, which outlives containers; only the
// first instance leaves its liveness file out.
func TestProbeLivenessFailureRestartsContainer(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: flaky}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'n=$(( $(cat /count/n 2>/dev/null || echo 0) + 1 )); echo $n > /count/n; echo "instance $n started"; if [ $n -gt 1 ]; then touch /tmp/alive; fi; exec sleep 3600']
    volumeMounts: [{name: count, mountPath: /count}]
    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 2
      # The second instance must not fail it by being slow on a busy node.
      timeoutSeconds: 10
  volumes:
  - {name: count, emptyDir: {}}
`)
	p := n.waitPod("flaky", 2*time.Minute, func(p *corev1.Pod) error {
		if len(p.Status.ContainerStatuses) != 1 {
			return fmt.Errorf("no container status: %s", containerStates(p))
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount < 1 || cs.State.Running == nil {
			return fmt.Errorf("want a restarted, running container: %s", containerStates(p))
		}
		return nil
	})
	cs := p.Status.ContainerStatuses[0]
	if term := cs.LastTerminationState.Terminated; term == nil {
		t.Errorf("lastState has no terminated instance: %+v", cs.LastTerminationState)
	} else if term.ExitCode == 0 {
		// The kubelet kills it: SIGTERM, then SIGKILL for a sleep that
		// ignores SIGTERM as PID 1.
		t.Errorf("killed instance exited 0: %+v", term)
	}
	n.waitEvent("flaky", "Unhealthy", "Liveness probe failed", 1, 30*time.Second)
	n.waitEvent("flaky", "Killing", "failed liveness probe", 1, 30*time.Second)

	eventually(t, 30*time.Second, "logs of both instances", func() error {
		prev, err := n.logs("flaky", "app", true)
		if err != nil {
			return err
		}
		if !strings.Contains(prev, "instance 1 started") {
			return fmt.Errorf("logs --previous %q, want the first instance's line", prev)
		}
		cur, err := n.logs("flaky", "app", false)
		if err != nil {
			return err
		}
		// Later instances print a higher count, never the first one's.
		if strings.Contains(cur, "instance 1 started") || !strings.Contains(cur, "started") {
			return fmt.Errorf("logs %q, want a later instance's line only", cur)
		}
		return nil
	})
	// The second instance keeps its liveness file: it stays up.
	n.waitPod("flaky", time.Minute, func(p *corev1.Pod) error {
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 1 || !cs.Ready || cs.Started == nil || !*cs.Started {
			return fmt.Errorf("want restarts 1, ready and started: %s", containerStates(p))
		}
		return nil
	})
}

// A pod whose readiness probe fails runs but is not Ready; it becomes Ready
// when the probe starts to pass, and not Ready again when it fails again.
// The container is never restarted for it.
func TestProbeReadinessGatesReady(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: gated}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    readinessProbe:
      exec: {command: [cat, /tmp/ready]}
      periodSeconds: 1
      failureThreshold: 1
`)
	n.waitPod("gated", 2*time.Minute, containerRunning("app"))
	// Once the kubelet reports the probe's failure, the pod must not be Ready.
	n.waitEvent("gated", "Unhealthy", "Readiness probe failed", 1, time.Minute)
	if p := n.pod("gated"); isReady(p) || p.Status.ContainerStatuses[0].Ready {
		t.Fatalf("pod Ready while its readiness probe fails: %s", containerStates(p))
	}

	n.execOut("gated", "app", "touch", "/tmp/ready")
	n.waitPod("gated", time.Minute, podReady)

	n.execOut("gated", "app", "rm", "/tmp/ready")
	p := n.waitPod("gated", time.Minute, func(p *corev1.Pod) error {
		if isReady(p) {
			return errors.New("still Ready")
		}
		return nil
	})
	if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("a failing readiness probe restarted the container: %s", containerStates(p))
	}
}

// A startup probe holds the liveness probe back: while the startup probe
// fails the container is not started, and a liveness probe that would fail
// does not kill it; once the startup probe passes, the liveness probe runs
// and its failure restarts the container.
func TestProbeStartupGatesLiveness(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: slowstart}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 1
      failureThreshold: 600
    livenessProbe:
      exec: {command: [cat, /tmp/alive]}
      periodSeconds: 1
      failureThreshold: 1
`)
	n.waitPod("slowstart", 2*time.Minute, containerRunning("app"))
	// Three failed startup probes: three liveness periods went by too.
	n.waitEvent("slowstart", "Unhealthy", "Startup probe failed", 3, time.Minute)
	p := n.pod("slowstart")
	cs := p.Status.ContainerStatuses[0]
	if cs.RestartCount != 0 || cs.State.Running == nil {
		t.Fatalf("container restarted before its startup probe passed: %s", containerStates(p))
	}
	if cs.Started == nil || *cs.Started {
		t.Fatalf("container started %v before its startup probe passed", cs.Started)
	}
	if evs, err := n.events("slowstart", "Unhealthy"); err != nil {
		t.Fatal(err)
	} else {
		for _, e := range evs {
			if strings.Contains(e.Message, "Liveness") {
				t.Fatalf("liveness probe ran before the startup probe passed: %s", e.Message)
			}
		}
	}

	n.execOut("slowstart", "app", "touch", "/tmp/started")
	n.waitPod("slowstart", 2*time.Minute, func(p *corev1.Pod) error {
		if cs := p.Status.ContainerStatuses[0]; cs.RestartCount < 1 {
			return fmt.Errorf("not restarted by its liveness probe: %s", containerStates(p))
		}
		return nil
	})
	n.waitEvent("slowstart", "Killing", "failed liveness probe", 1, 30*time.Second)
}

// An exec probe that outlives its timeoutSeconds fails as timed out: the
// runtime ends the command and says so, and the pod is not Ready, until a
// quick enough probe passes. The probe reads how long to take from a file.
func TestProbeExecTimeout(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: slowprobe}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'echo 30 > /tmp/delay; exec sleep 3600']
    readinessProbe:
      exec: {command: [sh, -c, 'sleep $(cat /tmp/delay)']}
      periodSeconds: 1
      timeoutSeconds: 1
      failureThreshold: 1
`)
	n.waitPod("slowprobe", 2*time.Minute, containerRunning("app"))
	n.waitEvent("slowprobe", "Unhealthy", "timed out", 1, time.Minute)
	if p := n.pod("slowprobe"); isReady(p) {
		t.Fatalf("pod Ready while its probe times out: %s", containerStates(p))
	}
	n.execOut("slowprobe", "app", "sh", "-c", "echo 0 > /tmp/delay")
	n.waitPod("slowprobe", time.Minute, podReady)
	// The timed-out probes' processes were ended, not left behind.
	eventually(t, 30*time.Second, "no probe process left", func() error {
		out, err := n.execErr("slowprobe", "app", "ps", "-o", "args")
		if err != nil {
			return err
		}
		if strings.Contains(out, "sleep 30") {
			return fmt.Errorf("timed-out probe commands still run:\n%s", out)
		}
		return nil
	})
}

// An HTTP liveness probe the server fails (404) restarts the container;
// the new instance, in the same pod network, answers it and stays.
func TestProbeHTTPLivenessRestarts(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: ` + busybox + `
    command: [sh, -c, 'n=$(( $(cat /count/n 2>/dev/null || echo 0) + 1 )); echo $n > /count/n; echo "instance $n"; mkdir -p /www; if [ $n -gt 1 ]; then echo ok > /www/healthz; fi; exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080}]
    volumeMounts: [{name: count, mountPath: /count}]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 2
      timeoutSeconds: 10
  volumes:
  - {name: count, emptyDir: {}}
`)
	n.waitEvent("web", "Unhealthy", "statuscode: 404", 1, 2*time.Minute)
	p := n.waitPod("web", 2*time.Minute, func(p *corev1.Pod) error {
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount != 1 || !cs.Ready || cs.State.Running == nil {
			return fmt.Errorf("want one restart, running and ready: %s", containerStates(p))
		}
		return nil
	})
	if prev, err := n.logs("web", "httpd", true); err != nil || strings.TrimSpace(prev) != "instance 1" {
		t.Errorf("logs --previous %q, %v; want instance 1", prev, err)
	}
	if p.Status.PodIP == "" {
		t.Fatalf("no pod IP")
	}
	// The restarted server answers on the pod's IP.
	eventually(t, 30*time.Second, "the restarted server on the pod IP", func() error {
		out, err := n.execErr("web", "httpd", "wget", "-q", "-O", "-", "http://"+p.Status.PodIP+":8080/healthz")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "ok" {
			return fmt.Errorf("got %q", out)
		}
		return nil
	})
}

// An exec probe runs as the container does: its user and groups, its
// environment, its working directory, without a terminal even in a tty
// container; so the pod turns Ready only if all of these hold.
func TestProbeExecRunsInContainerContext(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: context}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1234, runAsGroup: 2345, supplementalGroups: [3456]}
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    tty: true
    stdin: true
    workingDir: /tmp
    env: [{name: GREETING, value: hello}]
    readinessProbe:
      exec:
        command:
        - sh
        - -c
        - 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G) greeting=$GREETING pwd=$(pwd) tty=$(test -t 0 && echo yes || echo no)"; [ "$(id -u)" = 1234 ] && [ "$(id -g)" = 2345 ] && id -G | grep -qw 3456 && [ "$GREETING" = hello ] && [ "$(pwd)" = /tmp ] && ! test -t 0 && ! test -t 1'
      periodSeconds: 1
      timeoutSeconds: 10
`)
	n.waitPod("context", 2*time.Minute, func(p *corev1.Pod) error {
		if err := podReady(p); err != nil {
			evs, _ := n.events("context", "Unhealthy")
			var msgs []string
			for _, e := range evs {
				msgs = append(msgs, e.Message)
			}
			return fmt.Errorf("%v; probe said %q", err, msgs)
		}
		return nil
	})
}
