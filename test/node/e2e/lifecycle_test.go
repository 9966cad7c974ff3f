// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// A postStart hook runs in the container (what it writes is there to see
// with kubectl exec), and on delete the preStop hook runs before the
// container gets SIGTERM: the order both leave in a hostPath file is
// prestop, then TERM.
func TestLifecyclePostStartAndPreStopHooks(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hooks}
spec:
  terminationGracePeriodSeconds: 30
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "trap 'echo TERM >> /host/order; exit 0' TERM; echo main >> /host/order; sleep 3600 & wait"]
    volumeMounts: [{name: host, mountPath: /host}]
    lifecycle:
      postStart:
        exec: {command: [sh, -c, "echo from postStart > /tmp/poststart; echo poststart >> /host/order"]}
      preStop:
        exec: {command: [sh, -c, "echo prestop >> /host/order"]}
`)
	n.waitPod("hooks", 2*time.Minute, podReady)
	if got := strings.TrimSpace(n.kubectl("", "exec", "hooks", "--", "cat", "/tmp/poststart")); got != "from postStart" {
		t.Fatalf("postStart's file in the container: %q, want %q", got, "from postStart")
	}
	n.deletePod("hooks")
	lines := strings.Fields(readHostFile(t, dir, "order"))
	// main and poststart race; prestop and TERM come last, in that order.
	if len(lines) != 4 || lines[2] != "prestop" || lines[3] != "TERM" {
		t.Fatalf("hook and signal order %q, want main and poststart (either order), then prestop, then TERM", lines)
	}
	if !(lines[0] == "main" && lines[1] == "poststart" || lines[0] == "poststart" && lines[1] == "main") {
		t.Fatalf("hook and signal order %q: the container and its postStart hook should each have run once", lines)
	}
}

// On delete, a container that traps SIGTERM gets it and exits at once;
// one that shrugs SIGTERM off keeps running for the grace period and is
// then killed. Both write what they saw to a hostPath file; the stubborn
// one's clock (/proc/uptime) shows it ran on for about the grace period.
func TestLifecycleGracePeriodHonoured(t *testing.T) {
	t.Parallel()
	const grace = 4
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: grace}
spec:
  terminationGracePeriodSeconds: ` + strconv.Itoa(grace) + `
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: polite
    image: ` + busybox + `
    command: [sh, -c, "trap 'echo TERM > /host/polite; exit 0' TERM; sleep 3600 & wait"]
    volumeMounts: [{name: host, mountPath: /host}]
  - name: stubborn
    image: ` + busybox + `
    command: ` + stubbornCommand + `
    volumeMounts: [{name: host, mountPath: /host}]
`)
	n.waitPod("grace", 2*time.Minute, podReady)
	n.deletePod("grace")

	if got := readHostFile(t, dir, "polite"); got != "TERM\n" {
		t.Errorf("the container that traps SIGTERM wrote %q, want %q", got, "TERM\n")
	}
	ran := ranAfterTerm(t, readHostFile(t, dir, "stubborn"))
	// The kubelet's grace period starts a little before the signal is
	// handled; a second's slack allows for that and the tick interval.
	if ran < grace-1 {
		t.Fatalf("the container that ignores SIGTERM ran %.2fs after it, want about the grace period %ds before the kill", ran, grace)
	}
	t.Logf("the container that ignores SIGTERM ran %.2fs after it (grace period %ds)", ran, grace)
}

// stubbornCommand ignores SIGTERM (noting when it came) and ticks the
// uptime clock to /host/stubborn until it is killed.
const stubbornCommand = `[sh, -c, "trap 'read up x < /proc/uptime; echo TERM $up >> /host/stubborn' TERM; while :; do read up x < /proc/uptime; echo tick $up >> /host/stubborn; usleep 100000; done"]`

// ranAfterTerm reads stubbornCommand's log: how long it ran on after the
// first SIGTERM, in seconds.
func ranAfterTerm(t *testing.T, log string) float64 {
	t.Helper()
	var term, last float64
	sawTerm := false
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		var what string
		var at float64
		if _, err := fmt.Sscanf(line, "%s %g", &what, &at); err != nil {
			t.Fatalf("stubborn container's line %q: %v", line, err)
		}
		switch {
		case what == "TERM" && !sawTerm:
			term, sawTerm = at, true
		case what == "tick":
			last = at
		}
	}
	if !sawTerm {
		t.Fatalf("the container that ignores SIGTERM never got it")
	}
	return last - term
}

// kubectl delete --grace-period shortens the pod's own: a container that
// ignores SIGTERM is killed after the shorter period (the kubelet's
// least is 2s), not the 300s of its spec.
func TestLifecycleDeleteGracePeriodOverride(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: override}
spec:
  terminationGracePeriodSeconds: 300
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: stubborn
    image: ` + busybox + `
    command: ` + stubbornCommand + `
    volumeMounts: [{name: host, mountPath: /host}]
`)
	n.waitPod("override", 2*time.Minute, podReady)
	n.kubectl("", "delete", "pod", "override", "--grace-period=3", "--wait=true", "--timeout=120s")
	ran := ranAfterTerm(t, readHostFile(t, dir, "stubborn"))
	t.Logf("the container that ignores SIGTERM ran %.2fs after it (grace period 3s on delete, 300s in the spec)", ran)
	// Far below the spec's 300s, whatever the machine's load.
	if ran < 1 || ran > 60 {
		t.Fatalf("the container that ignores SIGTERM ran %.2fs after it, want about the 3s given on delete", ran)
	}
}

// A container is stopped with its image's STOPSIGNAL, not SIGTERM: the
// httpd image asks for SIGWINCH (Apache's graceful stop), whatever the
// command the pod runs in it.
func TestLifecycleImageStopSignal(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: stopsignal}
spec:
  terminationGracePeriodSeconds: 30
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: httpd
    image: registry.k8s.io/e2e-test-images/httpd:2.4.39-4
    command: [sh, -c, "for s in WINCH TERM QUIT INT; do trap \"echo $s > /host/signal; exit 0\" $s; done; sleep 3600 & wait"]
    volumeMounts: [{name: host, mountPath: /host}]
`)
	n.waitPod("stopsignal", 2*time.Minute, podReady)
	n.deletePod("stopsignal")
	if got := strings.TrimSpace(readHostFile(t, dir, "signal")); got != "WINCH" {
		t.Fatalf("the container was stopped with SIG%s, want the image's STOPSIGNAL SIGWINCH", got)
	}
}

// When activeDeadlineSeconds passes the kubelet stops the pod as on
// delete, and the pod stays to show how: Failed (DeadlineExceeded), the
// container that handled SIGTERM exited with its own code, the one that
// ignored it was killed (137).
func TestLifecycleActiveDeadlineStopsContainersWithGrace(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: deadline}
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 5
  terminationGracePeriodSeconds: 2
  containers:
  - name: polite
    image: ` + busybox + `
    command: [sh, -c, "trap 'exit 7' TERM; sleep 3600 & wait"]
  - name: stubborn
    image: ` + busybox + `
    command: [sh, -c, "trap 'echo ignored' TERM; while :; do usleep 100000; done"]
`)
	p := n.waitPod("deadline", 2*time.Minute, func(p *corev1.Pod) error {
		if err := podPhase(corev1.PodFailed)(p); err != nil {
			return err
		}
		if err := terminated("polite")(p); err != nil {
			return err
		}
		return terminated("stubborn")(p)
	})
	if p.Status.Reason != "DeadlineExceeded" {
		t.Errorf("pod reason %q, want DeadlineExceeded", p.Status.Reason)
	}
	if st := containerStatus(t, p, "polite").State.Terminated; st.ExitCode != 7 {
		t.Errorf("container that handles SIGTERM: exit %d (%s), want 7", st.ExitCode, st.Reason)
	}
	if st := containerStatus(t, p, "stubborn").State.Terminated; st.ExitCode != 137 || st.Reason != "Error" {
		t.Errorf("container that ignores SIGTERM: exit %d reason %q, want 137 (SIGKILL) Error", st.ExitCode, st.Reason)
	}
}

// terminationMessagePolicy File: what the container writes to its
// terminationMessagePath (the default /dev/termination-log or one of its
// own) is the message of its terminated state, whatever its exit code,
// and a non-root container with a read-only root filesystem can write it.
func TestTerminationMessageFromFile(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: msg}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: default-path
    image: ` + busybox + `
    command: [sh, -c, "printf 'all done\nbye' > /dev/termination-log"]
  - name: own-path
    image: ` + busybox + `
    command: [sh, -c, "printf 'failed on purpose' > /var/run/app/status; exit 2"]
    terminationMessagePath: /var/run/app/status
    terminationMessagePolicy: File
  - name: non-root-read-only
    image: ` + busybox + `
    command: [sh, -c, "printf 'written by uid %s' $(id -u) > /dev/termination-log"]
    securityContext: {runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true}
  - name: read-only-own-path
    image: ` + busybox + `
    command: [sh, -c, "printf 'in a new directory' > /srv/status/message"]
    terminationMessagePath: /srv/status/message
    securityContext: {readOnlyRootFilesystem: true}
`)
	p := n.waitPod("msg", 2*time.Minute, podPhase(corev1.PodFailed))
	for _, c := range []struct {
		name, msg string
		code      int32
	}{
		{"default-path", "all done\nbye", 0},
		{"own-path", "failed on purpose", 2},
		{"non-root-read-only", "written by uid 1000", 0},
		{"read-only-own-path", "in a new directory", 0},
	} {
		st := containerStatus(t, p, c.name).State.Terminated
		if st == nil {
			t.Errorf("%s: not terminated: %s", c.name, containerStates(p))
			continue
		}
		if st.Message != c.msg || st.ExitCode != c.code {
			t.Errorf("%s: message %q exit %d, want %q exit %d", c.name, st.Message, st.ExitCode, c.msg, c.code)
		}
	}
}

// terminationMessagePolicy FallbackToLogsOnError: a failing container
// that wrote no message file gets the tail of its log as the message; one
// that succeeds gets none; a file, when written, wins over the log.
func TestTerminationMessageFallbackToLogsOnError(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: fallback}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: fails
    image: ` + busybox + `
    command: [sh, -c, "echo first line; echo last words; exit 3"]
    terminationMessagePolicy: FallbackToLogsOnError
  - name: succeeds
    image: ` + busybox + `
    command: [sh, -c, "echo all is well"]
    terminationMessagePolicy: FallbackToLogsOnError
  - name: fails-with-file
    image: ` + busybox + `
    command: [sh, -c, "echo noise; printf 'from the file' > /dev/termination-log; exit 4"]
    terminationMessagePolicy: FallbackToLogsOnError
  - name: fails-mid-line
    image: ` + busybox + `
    command: [sh, -c, "echo whole line; printf 'no line end'; exit 5"]
    terminationMessagePolicy: FallbackToLogsOnError
  - name: fails-long-line
    image: ` + busybox + `
    command: [sh, -c, "head -c 40000 /dev/zero | tr '\\0' x; echo; exit 6"]
    terminationMessagePolicy: FallbackToLogsOnError
`)
	p := n.waitPod("fallback", 2*time.Minute, podPhase(corev1.PodFailed))
	for _, c := range []struct {
		name, msg string
		code      int32
	}{
		{"fails", "first line\nlast words\n", 3},
		{"succeeds", "", 0},
		{"fails-with-file", "from the file", 4},
		{"fails-mid-line", "whole line\nno line end", 5},
		// A 40000-byte line (split in the log file) is cut to the
		// kubelet's 2048-byte limit.
		{"fails-long-line", strings.Repeat("x", 2047) + "\n", 6},
	} {
		st := containerStatus(t, p, c.name).State.Terminated
		if st == nil {
			t.Errorf("%s: not terminated: %s", c.name, containerStates(p))
			continue
		}
		if st.Message != c.msg || st.ExitCode != c.code {
			t.Errorf("%s: message %q exit %d, want %q exit %d", c.name, st.Message, st.ExitCode, c.msg, c.code)
		}
	}
}

// A postStart hook that fails gets the container killed: the pod shows it
// terminated and the events say why (FailedPostStartHook; the kubelet
// logs what the hook printed, the event does not carry it).
func TestLifecyclePostStartHookFailureKillsContainer(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: badhook}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    lifecycle:
      postStart:
        exec: {command: [sh, -c, "echo the hook says no; exit 3"]}
`)
	// sleep, PID 1 of its container, ignores SIGTERM: it is killed.
	p := n.waitPod("badhook", 2*time.Minute, podPhase(corev1.PodFailed))
	if st := containerStatus(t, p, "app").State.Terminated; st == nil || st.ExitCode != 137 {
		t.Fatalf("container after its postStart hook failed: %s, want terminated exit 137", containerStates(p))
	}
	eventually(t, time.Minute, "FailedPostStartHook event", func() error {
		out, err := n.kubectlErr("", "get", "events", "--field-selector", "involvedObject.name=badhook", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "FailedPostStartHook: ") {
				return nil
			}
		}
		return fmt.Errorf("no FailedPostStartHook event; events:\n%s", out)
	})
}

// A container whose process dies of a signal it did not handle exits
// 128+signal, as kubectl shows: here SIGUSR1 (10), sent by itself. In a
// pod sharing one process namespace the container's shell is not PID 1,
// so the signal's default action applies. ($$$$ is the shell's $$: the
// kubelet expands $(VAR) in commands, and $$ is its escape for $.)
func TestTerminationExitCodeOfSignalledProcess(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: signalled}
spec:
  restartPolicy: Never
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "kill -USR1 $$$$; sleep 10"]
`)
	p := n.waitPod("signalled", 2*time.Minute, podPhase(corev1.PodFailed))
	st := containerStatus(t, p, "app").State.Terminated
	if st == nil {
		t.Fatalf("not terminated: %s", containerStates(p))
	}
	if st.ExitCode != 128+10 || st.Reason != "Error" {
		t.Fatalf("exit %d reason %q, want 138 (SIGUSR1) Error", st.ExitCode, st.Reason)
	}
}

// A preStop hook that outlasts the grace period does not hold the pod
// up: the kubelet stops waiting for it, the container is stopped with the
// hook's exec still running, and the pod goes away.
func TestLifecyclePreStopLongerThanGracePeriod(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: slowstop}
spec:
  terminationGracePeriodSeconds: 3
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "trap 'echo TERM >> /host/order; exit 0' TERM; sleep 3600 & wait"]
    volumeMounts: [{name: host, mountPath: /host}]
    lifecycle:
      preStop:
        exec: {command: [sh, -c, "echo prestop >> /host/order; sleep 600; echo prestop done >> /host/order"]}
`)
	n.waitPod("slowstop", 2*time.Minute, podReady)
	n.deletePod("slowstop")
	if got := strings.Split(strings.TrimSpace(readHostFile(t, dir, "order")), "\n"); len(got) < 1 || got[0] != "prestop" {
		t.Fatalf("order %q, want the preStop hook to have started first", got)
	} else {
		for _, line := range got {
			if line == "prestop done" {
				t.Fatalf("order %q: the 600s preStop hook finished, the grace period is 3s", got)
			}
		}
	}
}

// In a pod sharing one process namespace a container's main process is
// not PID 1, so the kernel leaves its children running when it exits: the
// runtime ends them, as the reference runtime does, and the container is
// reported exited with its main process's code. Another container of the
// pod sees no leftover.
func TestTerminationOrphansOfExitedContainerAreKilled(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: orphans}
spec:
  restartPolicy: Never
  shareProcessNamespace: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: quitter
    image: ` + busybox + `
    command: [sh, -c, "sleep 601 & sleep 602 & echo started; exit 5"]
  - name: watcher
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	p := n.waitPod("orphans", 2*time.Minute, terminated("quitter"))
	if st := containerStatus(t, p, "quitter").State.Terminated; st.ExitCode != 5 {
		t.Errorf("quitter: exit %d (%s), want 5", st.ExitCode, st.Reason)
	}
	eventually(t, time.Minute, "no process of the exited container left", func() error {
		out, err := n.kubectlErr("", "exec", "orphans", "-c", "watcher", "--", "ps", "-o", "args")
		if err != nil {
			return err
		}
		if strings.Contains(out, "sleep 601") || strings.Contains(out, "sleep 602") {
			return fmt.Errorf("still running:\n%s", out)
		}
		return nil
	})
}
