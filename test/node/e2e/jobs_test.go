// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// restartPolicy Never: a container that exits 1 leaves the pod Failed,
// with exit code 1 and no restart.
func TestRestartPolicyNeverFailsWithoutRestart(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "echo failing; exit 1"]
`)
	p := n.waitPod("never", 2*time.Minute, podPhase(corev1.PodFailed))
	cs := containerStatus(t, p, "app")
	if cs.State.Terminated == nil {
		t.Fatalf("container not terminated: %s", containerStates(p))
	}
	if st := cs.State.Terminated; st.ExitCode != 1 || st.Reason != "Error" {
		t.Errorf("exit %d reason %q, want 1 Error", st.ExitCode, st.Reason)
	}
	if st := cs.State.Terminated; st.StartedAt.IsZero() || st.FinishedAt.Before(&st.StartedAt) || !strings.HasPrefix(st.ContainerID, "podshim://") {
		t.Errorf("terminated state started %v finished %v container %q, want finished at or after started, by podshim", st.StartedAt, st.FinishedAt, st.ContainerID)
	}
	if cs.Ready || cs.Started == nil || *cs.Started {
		t.Errorf("ready %v started %v, want neither after the exit", cs.Ready, cs.Started)
	}
	if cs.RestartCount != 0 || cs.LastTerminationState.Terminated != nil {
		t.Errorf("restarted: count %d, last state %+v", cs.RestartCount, cs.LastTerminationState)
	}
	if got := n.kubectl("", "logs", "never"); got != "failing\n" {
		t.Errorf("logs %q, want %q", got, "failing\n")
	}
}

// restartPolicy OnFailure: a container that exits 1 is restarted (its
// first run's log is there as --previous, its termination message in the
// last state); when the restarted one exits 0 the pod Succeeded. The
// restarted container has a fresh root filesystem; an emptyDir remembers
// the first run across the restart. The second run waits for the test to
// let it finish.
func TestRestartPolicyOnFailureRestartsUntilSuccess(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 1
  volumes: [{name: state, emptyDir: {}}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "if [ -e /state/ran ]; then echo second run; [ -e /left-in-rootfs ] && echo stale root filesystem; until [ -e /state/finish ]; do usleep 100000; done; printf second > /dev/termination-log; exit 0; fi; touch /state/ran /left-in-rootfs; echo first run; printf first > /dev/termination-log; exit 1"]
    volumeMounts: [{name: state, mountPath: /state}]
`)
	p := n.waitPod("onfailure", 3*time.Minute, func(p *corev1.Pod) error {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount == 1 && cs.State.Running != nil {
				return nil
			}
		}
		return fmt.Errorf("not running again after one restart: %s", containerStates(p))
	})
	if st := containerStatus(t, p, "app").LastTerminationState.Terminated; st == nil || st.ExitCode != 1 || st.Reason != "Error" || st.Message != "first" {
		t.Errorf("last state %+v, want terminated exit 1 Error, message first", containerStatus(t, p, "app").LastTerminationState)
	}
	if got := n.kubectl("", "logs", "onfailure", "--previous"); got != "first run\n" {
		t.Errorf("logs --previous %q, want %q", got, "first run\n")
	}
	n.kubectl("", "exec", "onfailure", "--", "touch", "/state/finish")
	p = n.waitPod("onfailure", 2*time.Minute, podPhase(corev1.PodSucceeded))
	cs := containerStatus(t, p, "app")
	if cs.RestartCount != 1 {
		t.Errorf("restart count %d, want 1", cs.RestartCount)
	}
	if st := cs.State.Terminated; st == nil || st.ExitCode != 0 || st.Reason != "Completed" || st.Message != "second" {
		t.Errorf("state %+v, want terminated exit 0 Completed, message second", cs.State)
	}
	if got := n.kubectl("", "logs", "onfailure"); got != "second run\n" {
		t.Errorf("logs %q, want %q", got, "second run\n")
	}
}

// A Job of two completions runs to completion, as `kubectl wait` reports,
// with two Succeeded pods whose logs are there to read.
func TestJobRunsToCompletion(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: twice}
spec:
  completions: 2
  parallelism: 2
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: ` + busybox + `
        command: [sh, -c, "echo done $(hostname)"]
`)
	n.kubectl("", "wait", "--for=condition=complete", "job/twice", "--timeout=180s")
	var job batchv1.Job
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "job", "twice", "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	if job.Status.Succeeded != 2 || job.Status.Failed != 0 {
		t.Errorf("job succeeded %d failed %d, want 2 and 0", job.Status.Succeeded, job.Status.Failed)
	}
	var pods corev1.PodList
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "pods", "-l", "job-name=twice", "-o", "json")), &pods); err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodSucceeded {
			continue
		}
		succeeded++
		if got, want := n.kubectl("", "logs", p.Name), fmt.Sprintf("done %s\n", p.Name); got != want {
			t.Errorf("pod %s logs %q, want %q", p.Name, got, want)
		}
	}
	if succeeded != 2 {
		var phases []string
		for _, p := range pods.Items {
			phases = append(phases, p.Name+" "+string(p.Status.Phase))
		}
		t.Errorf("%d Succeeded pods, want 2: %s", succeeded, strings.Join(phases, ", "))
	}
}

// restartPolicy Always: a container that keeps failing is restarted and
// then backed off, as kubectl shows: waiting in CrashLoopBackOff, its last
// run terminated with its exit code.
func TestRestartPolicyAlwaysCrashLoopBackOff(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: crashloop}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, "echo crashing; exit 2"]
`)
	p := n.waitPod("crashloop", 3*time.Minute, func(p *corev1.Pod) error {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount >= 1 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
				return nil
			}
		}
		return fmt.Errorf("not in CrashLoopBackOff after a restart: %s", containerStates(p))
	})
	if st := containerStatus(t, p, "app").LastTerminationState.Terminated; st == nil || st.ExitCode != 2 || st.Reason != "Error" {
		t.Errorf("last state %+v, want terminated exit 2 Error", containerStatus(t, p, "app").LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running (restartPolicy Always)", p.Status.Phase)
	}
	// A pod whose container is not running deletes all the same.
	n.deletePod("crashloop")
}

// A Job's podFailurePolicy acts on the exit code the node reports: exit 42
// fails the Job at once, without retries, with reason PodFailurePolicy.
func TestJobPodFailurePolicyOnExitCode(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: fatal}
spec:
  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: work, operator: In, values: [42]}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: ` + busybox + `
        command: [sh, -c, "exit 42"]
`)
	n.kubectl("", "wait", "--for=condition=failed", "job/fatal", "--timeout=180s")
	var job batchv1.Job
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "job", "fatal", "-o", "json")), &job); err != nil {
		t.Fatal(err)
	}
	reason := ""
	for _, c := range job.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			reason = c.Reason
		}
	}
	if reason != "PodFailurePolicy" || job.Status.Failed != 1 {
		t.Errorf("job failed %d with reason %q, want 1 pod and PodFailurePolicy", job.Status.Failed, reason)
	}
}

// An Indexed Job gives each pod its completion index (the
// JOB_COMPLETION_INDEX variable the pod reads) and completes when every
// index has succeeded.
func TestJobIndexedCompletion(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completionMode: Indexed
  completions: 2
  parallelism: 2
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: work
        image: ` + busybox + `
        command: [sh, -c, "echo index $JOB_COMPLETION_INDEX"]
`)
	n.kubectl("", "wait", "--for=condition=complete", "job/indexed", "--timeout=180s")
	var pods corev1.PodList
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "pods", "-l", "job-name=indexed", "-o", "json")), &pods); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pods.Items {
		if p.Status.Phase != corev1.PodSucceeded {
			continue
		}
		idx := p.Annotations["batch.kubernetes.io/job-completion-index"]
		if got, want := n.kubectl("", "logs", p.Name), "index "+idx+"\n"; got != want {
			t.Errorf("pod %s logs %q, want %q", p.Name, got, want)
		}
		seen[idx] = true
	}
	if !seen["0"] || !seen["1"] {
		t.Errorf("succeeded indexes %v, want 0 and 1", seen)
	}
}

// A container whose command does not exist never runs: with restartPolicy
// Never the pod fails, and the container's status says it could not start
// (exit 128, StartError, a message naming the command), as the reference
// runtime reports it; with Always it is restarted, with back-off.
func TestRestartPolicyStartFailure(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: nocmd}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [/no/such/command]

---
apiVersion: v1
kind: Pod
metadata: {name: nocmd-init}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: ` + busybox + `
    command: [/no/such/init]
  containers:
  - name: app
    image: ` + busybox + `
    command: ["true"]
---
apiVersion: v1
kind: Pod
metadata: {name: nocmd-always}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [no-such-command-on-path]
`)
	p := n.waitPod("nocmd", 2*time.Minute, podPhase(corev1.PodFailed))
	st := containerStatus(t, p, "app").State.Terminated
	if st == nil {
		t.Fatalf("not terminated: %s", containerStates(p))
	}
	if st.ExitCode != 128 || st.Reason != "StartError" || !strings.Contains(st.Message, "/no/such/command") {
		t.Errorf("terminated exit %d reason %q message %q, want 128 StartError naming the command", st.ExitCode, st.Reason, st.Message)
	}
	// So does an init container's, and the app never runs.
	p = n.waitPod("nocmd-init", 2*time.Minute, podPhase(corev1.PodFailed))
	if st := containerStatus(t, p, "init").State.Terminated; st == nil || st.ExitCode != 128 || st.Reason != "StartError" {
		t.Errorf("init container: %s, want terminated 128 StartError", containerStates(p))
	}
	if cs := containerStatus(t, p, "app"); cs.State.Running != nil || cs.State.Terminated != nil {
		t.Errorf("app container ran after its init container failed: %s", containerStates(p))
	}
	// Its log is there to read (runc's complaint, which went to the
	// container's stderr).
	if out, err := n.kubectlErr("", "logs", "nocmd"); err != nil {
		t.Errorf("logs of a container that never started: %q, %v", out, err)
	}
	// With restartPolicy Always it is retried with back-off, each attempt
	// a container that failed to start.
	p = n.waitPod("nocmd-always", 2*time.Minute, func(p *corev1.Pod) error {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil {
				return nil
			}
		}
		return fmt.Errorf("not restarted yet: %s", containerStates(p))
	})
	if st := containerStatus(t, p, "app").LastTerminationState.Terminated; st.ExitCode != 128 || st.Reason != "StartError" || !strings.Contains(st.Message, "no-such-command-on-path") {
		t.Errorf("last state exit %d reason %q message %q, want 128 StartError naming the command", st.ExitCode, st.Reason, st.Message)
	}
}
