// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// cgroupV1 is where the node's cgroup v1 hierarchies are mounted.
const cgroupV1 = "/sys/fs/cgroup"

// unlimitedMemory is the least memory.limit_in_bytes cgroup v1 reports for
// "no limit" (the page-rounded maximum of a signed 64-bit number).
const unlimitedMemory = int64(1) << 62

// requireCgroupV1 skips a test that reads cgroup v1 files on a node
// without a cgroup v1 memory hierarchy.
func requireCgroupV1(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(cgroupV1, "memory", "memory.limit_in_bytes")); err != nil {
		t.Skipf("this test reads cgroup v1 files and the node has no cgroup v1 memory hierarchy: %v", err)
	}
}

// containerCgroup is where a running container's processes are in one
// cgroup v1 hierarchy, as the container's own /proc/self/cgroup says.
func (n *ns) containerCgroup(pod, container, controller string) string {
	n.t.Helper()
	out := n.kubectl("", "exec", pod, "-c", container, "--", "cat", "/proc/self/cgroup")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// hierarchy-ID:controller-list:path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2]
			}
		}
	}
	n.t.Fatalf("%s/%s: no %s cgroup in /proc/self/cgroup:\n%s", pod, container, controller, out)
	return ""
}

// cgroupValue reads one cgroup v1 file on the node as a number.
func cgroupValue(t *testing.T, controller, cgroup, file string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgroupV1, controller, cgroup, file))
	if err != nil {
		t.Fatalf("read the node's cgroup file: %v", err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("%s/%s: %v", cgroup, file, err)
	}
	return v
}

// Guaranteed, Burstable and BestEffort pods get their QoS class in the
// status, and their containers run in the kubelet's cgroup for it (below
// the node's cgroup root: kubepods/pod<uid>, kubepods/burstable/pod<uid>,
// kubepods/besteffort/pod<uid>) with the memory limit, CFS quota and CPU
// shares the spec asks for, which the container also sees at
// /sys/fs/cgroup.
func TestQoSClassesAndCgroups(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    resources:
      limits: {cpu: 250m, memory: 64Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: limited
    image: ` + busybox + `
    command: [sleep, "3600"]
    resources:
      requests: {cpu: 100m, memory: 32Mi}
      limits: {cpu: 500m, memory: 96Mi}
  - name: requests-only
    image: ` + busybox + `
    command: [sleep, "3600"]
    resources:
      requests: {cpu: 50m}
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	const period = 100000 // the kubelet's default CFS period, in µs
	podCgroups := map[string]string{}
	floor := oomScoreAdjFloor(t)
	capacity := nodeMemoryCapacity(t)
	for _, c := range []struct {
		pod, container string
		qos            corev1.PodQOSClass
		qosDir         string // below <root>/kubepods
		memory         int64  // 0: unlimited
		quota, shares  int64
		oomScoreAdj    int
	}{
		{"guaranteed", "app", corev1.PodQOSGuaranteed, "", 64 << 20, 250 * period / 1000, 250 * 1024 / 1000, max(-997, floor)},
		{"burstable", "limited", corev1.PodQOSBurstable, "burstable", 96 << 20, 500 * period / 1000, 100 * 1024 / 1000, burstableOOMScoreAdj(32<<20, capacity)},
		{"burstable", "requests-only", corev1.PodQOSBurstable, "burstable", 0, -1, 50 * 1024 / 1000, burstableOOMScoreAdj(0, capacity)},
		{"besteffort", "app", corev1.PodQOSBestEffort, "besteffort", 0, -1, 2, 1000},
	} {
		what := c.pod + "/" + c.container
		p := n.waitPod(c.pod, 2*time.Minute, podReady)
		if p.Status.QOSClass != c.qos {
			t.Errorf("%s: qosClass %q, want %q", what, p.Status.QOSClass, c.qos)
		}
		podCgroup := path.Join(node.CgroupRoot(), "kubepods", c.qosDir, "pod"+string(p.UID))
		podCgroups[c.pod] = podCgroup
		// The resources the status reports, which the kubelet reads back
		// from the runtime for a running container, are the spec's.
		for _, spec := range p.Spec.Containers {
			if spec.Name != c.container {
				continue
			}
			got := containerStatus(t, p, c.container).Resources
			if got == nil {
				t.Errorf("%s: no resources in the status", what)
				break
			}
			for _, l := range []struct {
				kind       string
				want, have corev1.ResourceList
			}{{"limits", spec.Resources.Limits, got.Limits}, {"requests", spec.Resources.Requests, got.Requests}} {
				for name, q := range l.want {
					if h, ok := l.have[name]; !ok || h.Cmp(q) != 0 {
						t.Errorf("%s: status %s %s %v, the spec has %s", what, l.kind, name, l.have, q.String())
					}
				}
			}
		}
		for _, controller := range []string{"memory", "cpu"} {
			cg := n.containerCgroup(c.pod, c.container, controller)
			if path.Dir(cg) != podCgroup {
				t.Errorf("%s: %s cgroup %s, want one directly below the pod's %s", what, controller, cg, podCgroup)
				continue
			}
			if _, err := os.Stat(filepath.Join(cgroupV1, controller, podCgroup)); err != nil {
				t.Errorf("%s: the pod's %s cgroup on the node: %v", what, controller, err)
			}
		}
		memCg := n.containerCgroup(c.pod, c.container, "memory")
		cpuCg := n.containerCgroup(c.pod, c.container, "cpu")
		mem := cgroupValue(t, "memory", memCg, "memory.limit_in_bytes")
		if c.memory == 0 && mem < unlimitedMemory || c.memory != 0 && mem != c.memory {
			t.Errorf("%s: memory.limit_in_bytes %d, want %s", what, mem, limitString(c.memory))
		}
		if got := cgroupValue(t, "cpu", cpuCg, "cpu.cfs_quota_us"); got != c.quota {
			t.Errorf("%s: cpu.cfs_quota_us %d, want %d", what, got, c.quota)
		}
		if c.quota > 0 {
			if got := cgroupValue(t, "cpu", cpuCg, "cpu.cfs_period_us"); got != period {
				t.Errorf("%s: cpu.cfs_period_us %d, want %d", what, got, period)
			}
		}
		if got := cgroupValue(t, "cpu", cpuCg, "cpu.shares"); got != c.shares {
			t.Errorf("%s: cpu.shares %d, want %d", what, got, c.shares)
		}
		// What a program in the container (a JVM, say) reads.
		inside := strings.TrimSpace(n.kubectl("", "exec", c.pod, "-c", c.container, "--", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"))
		if inside != strconv.FormatInt(mem, 10) {
			t.Errorf("%s: the container reads memory.limit_in_bytes %q, the node has %d", what, inside, mem)
		}
		// The OOM killer's preference follows the QoS class, for the
		// container's own process and for one exec'd into it.
		want := strconv.Itoa(c.oomScoreAdj)
		if got := strings.TrimSpace(n.kubectl("", "exec", c.pod, "-c", c.container, "--", "cat", "/proc/1/oom_score_adj")); got != want {
			t.Errorf("%s: PID 1's oom_score_adj %s, want %s", what, got, want)
		}
		if got := strings.TrimSpace(n.kubectl("", "exec", c.pod, "-c", c.container, "--", "cat", "/proc/self/oom_score_adj")); got != want {
			t.Errorf("%s: an exec'd process's oom_score_adj %s, want %s", what, got, want)
		}
	}
	// Deleted pods leave no cgroup behind, in any hierarchy.
	for pod, cg := range podCgroups {
		n.deletePod(pod)
		eventually(t, time.Minute, "pod "+pod+"'s cgroups removed", func() error {
			var left []string
			for _, controller := range []string{"memory", "cpu", "cpuacct", "pids", "blkio", "devices", "freezer", "cpuset"} {
				if _, err := os.Stat(filepath.Join(cgroupV1, controller, cg)); err == nil {
					left = append(left, controller)
				}
			}
			if len(left) > 0 {
				return fmt.Errorf("%s still in %v", cg, left)
			}
			return nil
		})
	}
}

// oomScoreAdjFloor is the lowest oom_score_adj podshim can give: without
// CAP_SYS_RESOURCE a process cannot lower its children's below its own.
// podshim is this test process's child, with its capabilities and score.
func oomScoreAdjFloor(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatalf("CapEff %q: %v", line, err)
			}
			const capSysResource = 24
			// Held in the initial user namespace, where the kernel asks.
			uidMap, _ := os.ReadFile("/proc/self/uid_map")
			if f := strings.Fields(string(uidMap)); caps&(1<<capSysResource) != 0 && len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295" {
				return -1000
			}
		}
	}
	own, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(own)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// nodeMemoryCapacity is the node's memory capacity, as the kubelet sees it.
func nodeMemoryCapacity(t *testing.T) int64 {
	t.Helper()
	var nd corev1.Node
	if err := json.Unmarshal([]byte(kubectl(t, "", "get", "node", node.NodeName(), "-o", "json")), &nd); err != nil {
		t.Fatal(err)
	}
	return nd.Status.Capacity.Memory().Value()
}

// burstableOOMScoreAdj is the kubelet's oom_score_adj for a Burstable
// container requesting request bytes of memory: 1000 less its per mille
// share of the node's memory, kept within 3..999.
func burstableOOMScoreAdj(request, capacity int64) int {
	adj := int(1000 - 1000*request/capacity)
	return min(max(adj, 3), 999)
}

func limitString(v int64) string {
	if v == 0 {
		return "unlimited"
	}
	return fmt.Sprint(v)
}

// A container that allocates past its memory limit is killed by the
// kernel, and the pod status says so: terminated, reason OOMKilled, exit
// code 137.
func TestOOMKilledReported(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	// busybox tail keeps a line it has not seen the end of in memory, and
	// /dev/zero has no line ends.
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: ` + busybox + `
    command: [tail, /dev/zero]
    resources:
      limits: {memory: 32Mi}
`)
	p := n.waitPod("hog", 2*time.Minute, podPhase(corev1.PodFailed))
	st := containerStatus(t, p, "hog").State.Terminated
	if st == nil {
		t.Fatalf("not terminated: %s", containerStates(p))
	}
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Fatalf("terminated reason %q exit %d, want OOMKilled 137", st.Reason, st.ExitCode)
	}
}

// With restartPolicy Always an OOM-killed container is restarted and its
// last state keeps the reason, as `kubectl describe` shows it.
func TestOOMKilledLastStateAfterRestart(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: ` + busybox + `
    command: [tail, /dev/zero]
    resources:
      limits: {memory: 32Mi}
`)
	p := n.waitPod("hog", 2*time.Minute, func(p *corev1.Pod) error {
		for _, cs := range p.Status.ContainerStatuses {
			if cs.RestartCount >= 1 && cs.LastTerminationState.Terminated != nil {
				return nil
			}
		}
		return fmt.Errorf("not restarted yet: %s", containerStates(p))
	})
	st := containerStatus(t, p, "hog").LastTerminationState.Terminated
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Fatalf("last state reason %q exit %d, want OOMKilled 137", st.Reason, st.ExitCode)
	}
}

// An init container OOM-killed fails a restartPolicy Never pod, and the
// init container's status says OOMKilled. So does a container whose
// shell started the memory hog as a child (dd with a block larger than
// the limit, as the upstream node suite does) and carried on: its exit
// code is the shell's own, 0 here, as the reference runtime reports it.
func TestOOMKilledInitContainerAndChildProcess(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: init-hog}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: hog
    image: ` + busybox + `
    command: [tail, /dev/zero]
    resources:
      limits: {memory: 32Mi}
  containers:
  - name: app
    image: ` + busybox + `
    command: ["true"]
---
apiVersion: v1
kind: Pod
metadata: {name: child-hog}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: hog
    image: ` + busybox + `
    command: [sh, -c, "echo starting; dd if=/dev/zero of=/dev/null bs=64M; echo dd said $?"]
    resources:
      limits: {memory: 32Mi}
`)
	for _, c := range []struct {
		pod   string
		phase corev1.PodPhase
		exit  int32
	}{
		{"init-hog", corev1.PodFailed, 137},
		{"child-hog", corev1.PodSucceeded, 0},
	} {
		p := n.waitPod(c.pod, 2*time.Minute, podPhase(c.phase))
		st := containerStatus(t, p, "hog").State.Terminated
		if st == nil {
			t.Errorf("%s: not terminated: %s", c.pod, containerStates(p))
			continue
		}
		if st.Reason != "OOMKilled" || st.ExitCode != c.exit {
			t.Errorf("%s: terminated reason %q exit %d, want OOMKilled %d", c.pod, st.Reason, st.ExitCode, c.exit)
		}
	}
	// The shell also reports "Killed" on stderr, in no set order.
	if got := n.kubectl("", "logs", "child-hog"); !strings.Contains(got, "dd said 137\n") {
		t.Errorf("child-hog logs %q, want dd killed (137) and the shell carrying on", got)
	}
}

// A pod-level memory limit (spec.resources) caps the pod's cgroup: a
// container without a limit of its own that runs past the pod's is
// OOM-killed and reported so, while the pod's other container runs on.
func TestOOMKilledByPodLevelLimit(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	n := newNS(t)
	out, err := n.kubectlErr(`apiVersion: v1
kind: Pod
metadata: {name: pod-hog}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  resources:
    limits: {memory: 32Mi}
  containers:
  - name: hog
    image: `+busybox+`
    command: [tail, /dev/zero]
  # Keeps the pod, and its cgroup, there to look at.
  - name: holder
    image: `+busybox+`
    command: [sleep, "3600"]
`, "apply", "-f", "-")
	if err != nil {
		if strings.Contains(err.Error(), "PodLevelResources") || strings.Contains(err.Error(), "spec.resources") {
			t.Skipf("the API server refuses pod-level resources: %v", err)
		}
		t.Fatalf("%v: %s", err, out)
	}
	p := n.waitPod("pod-hog", 2*time.Minute, terminated("hog"))
	st := containerStatus(t, p, "hog").State.Terminated
	if st == nil {
		t.Fatalf("not terminated: %s", containerStates(p))
	}
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Fatalf("terminated reason %q exit %d, want OOMKilled 137", st.Reason, st.ExitCode)
	}
	if got := cgroupValue(t, "memory", path.Join(node.CgroupRoot(), "kubepods", "burstable", "pod"+string(p.UID)), "memory.limit_in_bytes"); got != 32<<20 {
		t.Errorf("the pod's memory cgroup limit %d, want %d", got, 32<<20)
	}
}

// Containers that exit while podshim is down — one OOM-killed, one with
// exit 3 — are reported as they ended once it is back: each pod's monitor
// records the exit and the OOM kill without the daemon. Not parallel: the
// runtime is down for every test meanwhile.
func TestOOMKilledWhilePodshimDown(t *testing.T) {
	requireCgroupV1(t)
	n := newNS(t)
	dir := hostDir(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: down}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  volumes: [{name: host, hostPath: {path: ` + dir + `, type: Directory}}]
  containers:
  - name: hog
    image: ` + busybox + `
    command: [sh, -c, "until [ -e /host/go ]; do usleep 100000; done; exec tail /dev/zero"]
    volumeMounts: [{name: host, mountPath: /host}]
    resources:
      limits: {memory: 32Mi}
  - name: quitter
    image: ` + busybox + `
    command: [sh, -c, "until [ -e /host/go ]; do usleep 100000; done; exit 3"]
    volumeMounts: [{name: host, mountPath: /host}]
`)
	n.waitPod("down", 2*time.Minute, podReady)
	cgroups := map[string]string{}
	for _, c := range []string{"hog", "quitter"} {
		cgroups[c] = n.containerCgroup("down", c, "memory")
	}

	node.StopPodshim(false)
	restarted := false
	defer func() {
		if !restarted {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := node.StartPodshim(ctx); err != nil {
				t.Errorf("start podshim again: %v", err)
			}
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for c, cg := range cgroups {
		eventually(t, time.Minute, c+" exited while podshim is down", func() error {
			procs, err := os.ReadFile(filepath.Join(cgroupV1, "memory", cg, "cgroup.procs"))
			if err != nil {
				return err
			}
			if s := strings.TrimSpace(string(procs)); s != "" {
				return fmt.Errorf("processes left: %s", s)
			}
			return nil
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := node.StartPodshim(ctx); err != nil {
		t.Fatalf("start podshim again: %v", err)
	}
	restarted = true

	p := n.waitPod("down", 2*time.Minute, podPhase(corev1.PodFailed))
	for _, c := range []struct {
		name, reason string
		exit         int32
	}{{"hog", "OOMKilled", 137}, {"quitter", "Error", 3}} {
		st := containerStatus(t, p, c.name).State.Terminated
		if st == nil || st.Reason != c.reason || st.ExitCode != c.exit {
			t.Errorf("%s: %s, want terminated %s exit %d", c.name, containerStates(p), c.reason, c.exit)
		}
	}
}

// A pod of a RuntimeClass whose handler is podshim's runc runs, and the
// class's overhead is added to the pod's cgroup limit on top of its
// containers'.
func TestQoSRuntimeClassOverhead(t *testing.T) {
	t.Parallel()
	requireCgroupV1(t)
	n := newNS(t)
	class := "runc-" + n.name
	kubectl(t, `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: `+class+`}
handler: runc
overhead:
  podFixed: {cpu: 50m, memory: 16Mi}
`, "apply", "-f", "-")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = node.Kubectl(ctx, "", "delete", "runtimeclass", class, "--ignore-not-found")
	})
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: overhead}
spec:
  runtimeClassName: ` + class + `
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    resources:
      limits: {cpu: 100m, memory: 64Mi}
`)
	p := n.waitPod("overhead", 2*time.Minute, podReady)
	if p.Status.QOSClass != corev1.PodQOSGuaranteed {
		t.Errorf("qosClass %q, want Guaranteed", p.Status.QOSClass)
	}
	if mem := p.Spec.Overhead.Memory(); mem.Value() != 16<<20 {
		t.Errorf("pod overhead memory %v, want 16Mi from the RuntimeClass", mem)
	}
	podCgroup := path.Join(node.CgroupRoot(), "kubepods", "pod"+string(p.UID))
	if got := cgroupValue(t, "memory", podCgroup, "memory.limit_in_bytes"); got != (64+16)<<20 {
		t.Errorf("the pod's memory limit %d, want the container's 64Mi and the overhead's 16Mi", got)
	}
	if got := cgroupValue(t, "memory", n.containerCgroup("overhead", "app", "memory"), "memory.limit_in_bytes"); got != 64<<20 {
		t.Errorf("the container's memory limit %d, want 64Mi", got)
	}
}

// A RuntimeClass naming a handler podshim does not have leaves its pods
// unstarted, and the events say why.
func TestQoSRuntimeClassUnknownHandler(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	class := "nope-" + n.name
	kubectl(t, `apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: `+class+`}
handler: no-such-handler
`, "apply", "-f", "-")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = node.Kubectl(ctx, "", "delete", "runtimeclass", class, "--ignore-not-found")
	})
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: unknown-handler}
spec:
  runtimeClassName: ` + class + `
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	eventually(t, 2*time.Minute, "FailedCreatePodSandBox event naming the handler", func() error {
		out, err := n.kubectlErr("", "get", "events", "--field-selector", "involvedObject.name=unknown-handler", "-o", "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "FailedCreatePodSandBox: ") && strings.Contains(line, "no-such-handler") {
				return nil
			}
		}
		return fmt.Errorf("events:\n%s", out)
	})
	if p := n.pod("unknown-handler"); p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s, want Pending: %s", p.Status.Phase, containerStates(p))
	}
}
