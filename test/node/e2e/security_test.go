// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// runAsUser, runAsGroup and supplementalGroups set the process's ids, a
// container's own securityContext winning over the pod's.
func TestSecurityRunAsUserAndGroup(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ids}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 1234, runAsGroup: 5678, supplementalGroups: [4000]}
  containers:
  - name: pod-level
    image: ` + busybox + `
    command: [sh, -c, 'id -u; id -g; id -G']
  - name: own
    image: ` + busybox + `
    securityContext: {runAsUser: 2345, runAsGroup: 6789}
    command: [sh, -c, 'id -u; id -g; id -G']
`)
	n.waitPod("ids", 2*time.Minute, podPhase(corev1.PodSucceeded))
	for name, want := range map[string][3]string{
		"pod-level": {"1234", "5678", "5678 4000"},
		"own":       {"2345", "6789", "6789 4000"},
	} {
		out, err := n.logs("ids", name, false)
		if err != nil {
			t.Fatal(err)
		}
		l := lines(out)
		if len(l) != 3 || l[0] != want[0] || l[1] != want[1] || !sameFields(l[2], want[2]) {
			t.Errorf("container %s: id -u, -g, -G printed %q, want %q", name, l, want)
		}
	}
}

// sameFields tells whether two space-separated lists hold the same words.
func sameFields(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	slices.Sort(fa)
	slices.Sort(fb)
	return slices.Equal(fa, fb)
}

// fsGroup gives a pod's volumes to a group the process is in: an emptyDir
// and a configMap volume's files belong to it, files the process creates in
// the emptyDir do too, and the group is among the process's groups.
func TestSecurityFSGroup(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {key: value}
---
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: conf, mountPath: /conf}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: conf, configMap: {name: conf}}
`)
	n.waitPod("shared", 2*time.Minute, podReady)
	if got := strings.Fields(n.execOut("shared", "app", "id", "-G")); !slices.Contains(got, "2000") || !slices.Contains(got, "3000") {
		t.Errorf("process groups %v, want 3000 and fsGroup 2000 among them", got)
	}
	if got := strings.TrimSpace(n.execOut("shared", "app", "stat", "-c", "%g", "/data")); got != "2000" {
		t.Errorf("emptyDir group %s, want fsGroup 2000", got)
	}
	if got := strings.TrimSpace(n.execOut("shared", "app", "stat", "-L", "-c", "%g", "/conf/key")); got != "2000" {
		t.Errorf("configMap file group %s, want fsGroup 2000", got)
	}
	// Not root, yet it can write the emptyDir through the group.
	n.execOut("shared", "app", "touch", "/data/made")
	if got := strings.TrimSpace(n.execOut("shared", "app", "stat", "-c", "%u %g", "/data/made")); got != "1000 2000" {
		t.Errorf("a new file in the emptyDir is owned by %s, want 1000 2000", got)
	}
}

// runAsNonRoot refuses a container that would run as root, whether the
// image says so (busybox has no USER) or runAsUser does, with the kubelet's
// CreateContainerConfigError; a container of the same pod with a non-root
// runAsUser runs.
func TestSecurityRunAsNonRoot(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsNonRoot: true}
  containers:
  - name: root-image
    image: ` + busybox + `
    command: [sleep, "3600"]
  - name: uid-zero
    image: ` + busybox + `
    securityContext: {runAsUser: 0}
    command: [sleep, "3600"]
  - name: non-root
    image: ` + busybox + `
    securityContext: {runAsUser: 1000}
    command: [sleep, "3600"]
`)
	p := n.waitPod("nonroot", 2*time.Minute, func(p *corev1.Pod) error {
		for _, cond := range []func(*corev1.Pod) error{
			containerWaitingReason("root-image", "CreateContainerConfigError"),
			containerWaitingReason("uid-zero", "CreateContainerConfigError"),
			containerRunning("non-root"),
		} {
			if err := cond(p); err != nil {
				return err
			}
		}
		return nil
	})
	if msg := containerStatus(t, p, "root-image").State.Waiting.Message; !strings.Contains(msg, "image will run as root") {
		t.Errorf("root image refused with %q", msg)
	}
	if msg := containerStatus(t, p, "uid-zero").State.Waiting.Message; !strings.Contains(msg, "runAsUser breaks non-root policy") {
		t.Errorf("runAsUser 0 refused with %q", msg)
	}
	if got := strings.TrimSpace(n.execOut("nonroot", "non-root", "id", "-u")); got != "1000" {
		t.Errorf("non-root container runs as %s", got)
	}
	for _, name := range []string{"root-image", "uid-zero"} {
		if id := containerStatus(t, p, name).ContainerID; id != "" {
			t.Errorf("refused container %s was created: %s", name, id)
		}
	}
}

// statusField returns a field of /proc/self/status ("NoNewPrivs", "CapEff").
func statusField(status, field string) string {
	for _, l := range lines(status) {
		if k, v, ok := strings.Cut(l, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// readOnlyRootFilesystem makes the image's files read-only while volumes
// stay writable; allowPrivilegeEscalation false sets no_new_privs; dropped
// and added capabilities show in the process's effective set.
func TestSecurityRootFilesystemPrivilegesCapabilities(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: locked}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: locked
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext:
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  - name: plain
    image: ` + busybox + `
    command: [sleep, "3600"]
  volumes:
  - {name: scratch, emptyDir: {}}
`)
	n.waitPod("locked", 2*time.Minute, podReady)
	out, err := n.execErr("locked", "locked", "touch", "/etc/new")
	if err == nil {
		t.Errorf("readOnlyRootFilesystem took a write")
	} else if !strings.Contains(out+err.Error(), "Read-only file system") {
		t.Errorf("readOnlyRootFilesystem refused a write with %v %q, want EROFS", err, out)
	}
	n.execOut("locked", "locked", "touch", "/scratch/ok")
	n.execOut("locked", "plain", "touch", "/etc/new")

	// The container's process and a process exec'd into it alike.
	for _, proc := range []string{"1", "self"} {
		locked := n.execOut("locked", "locked", "cat", "/proc/"+proc+"/status")
		if got := statusField(locked, "NoNewPrivs"); got != "1" {
			t.Errorf("allowPrivilegeEscalation false: /proc/%s NoNewPrivs %q, want 1", proc, got)
		}
		// NET_BIND_SERVICE is capability 10, alone.
		if got := statusField(locked, "CapEff"); got != "0000000000000400" {
			t.Errorf("drop ALL, add NET_BIND_SERVICE: /proc/%s CapEff %s, want 0000000000000400", proc, got)
		}
	}
	// No container, nor any process exec'd into one, inherits capabilities
	// across execve beyond its bounding set (CVE-2022-24769): inheritable
	// and ambient sets are empty, and an exec'd process has the container's
	// effective set.
	pid1 := n.execOut("locked", "plain", "cat", "/proc/1/status")
	for _, c := range []string{"locked", "plain"} {
		status := n.execOut("locked", c, "cat", "/proc/self/status")
		for _, set := range []string{"CapInh", "CapAmb"} {
			if got := statusField(status, set); got != "0000000000000000" {
				t.Errorf("%s: %s %s, want none", c, set, got)
			}
		}
		if c == "plain" && statusField(status, "CapEff") != statusField(pid1, "CapEff") {
			t.Errorf("plain: an exec'd process has CapEff %s, the container %s", statusField(status, "CapEff"), statusField(pid1, "CapEff"))
		}
	}
	plain := n.execOut("locked", "plain", "cat", "/proc/self/status")
	if got := statusField(plain, "NoNewPrivs"); got != "0" {
		t.Errorf("default container: NoNewPrivs %q, want 0", got)
	}
	if got := statusField(plain, "CapEff"); got == "0000000000000400" || got == "" || got == "0000000000000000" {
		t.Errorf("default container: CapEff %q, want the runtime's default set", got)
	}
}

// supplementalGroupsPolicy: Merge (the default) adds the groups the
// image's /etc/group lists the user in (busybox's root is in wheel, 10);
// Strict gives only the pod's own groups. The node says it supports it,
// and each container's status reports the ids its process got.
func TestSecuritySupplementalGroupsPolicy(t *testing.T) {
	t.Parallel()
	var nd corev1.Node
	if err := json.Unmarshal([]byte(kubectl(t, "", "get", "node", node.NodeName(), "-o", "json")), &nd); err != nil {
		t.Fatal(err)
	}
	if f := nd.Status.Features; f == nil || f.SupplementalGroupsPolicy == nil || !*f.SupplementalGroupsPolicy {
		t.Fatalf("node status features %+v: want supplementalGroupsPolicy true", nd.Status.Features)
	}
	n := newNS(t)
	for _, policy := range []string{"Merge", "Strict"} {
		n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ` + strings.ToLower(policy) + `}
spec:
  restartPolicy: Never
  securityContext: {runAsUser: 0, supplementalGroups: [4000], supplementalGroupsPolicy: ` + policy + `}
  containers:
  - name: app
    image: ` + busybox + `
    command: [id, -G]
`)
	}
	for policy, want := range map[string][]int64{"merge": {0, 10, 4000}, "strict": {0, 4000}} {
		p := n.waitPod(policy, 2*time.Minute, podPhase(corev1.PodSucceeded))
		out, err := n.logs(policy, "app", false)
		if err != nil {
			t.Fatal(err)
		}
		var wantIDs []string
		for _, g := range want {
			wantIDs = append(wantIDs, fmt.Sprint(g))
		}
		if !sameFields(out, strings.Join(wantIDs, " ")) {
			t.Errorf("%s: id -G %q, want %v", policy, strings.TrimSpace(out), want)
		}
		cs := containerStatus(t, p, "app")
		if cs.User == nil || cs.User.Linux == nil {
			t.Errorf("%s: container status has no user: %+v", policy, cs)
			continue
		}
		got := slices.Clone(cs.User.Linux.SupplementalGroups)
		slices.Sort(got)
		if cs.User.Linux.UID != 0 || cs.User.Linux.GID != 0 || !slices.Equal(got, want) {
			t.Errorf("%s: status user %+v, want uid 0 gid 0 groups %v", policy, *cs.User.Linux, want)
		}
	}
}

// seccompProfile RuntimeDefault filters the container's system calls;
// Unconfined leaves them unfiltered.
func TestSecuritySeccompProfile(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: seccomp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: filtered
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext: {seccompProfile: {type: RuntimeDefault}}
  - name: unconfined
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext: {seccompProfile: {type: Unconfined}}
`)
	n.waitPod("seccomp", 2*time.Minute, podReady)
	// Seccomp: 2 is filter mode, 0 none.
	if got := statusField(n.execOut("seccomp", "filtered", "cat", "/proc/self/status"), "Seccomp"); got != "2" {
		t.Errorf("RuntimeDefault: Seccomp %q, want 2", got)
	}
	if got := statusField(n.execOut("seccomp", "unconfined", "cat", "/proc/self/status"), "Seccomp"); got != "0" {
		t.Errorf("Unconfined: Seccomp %q, want 0", got)
	}
}

// The runtime sets HOME from the image's /etc/passwd for the user the
// container runs as, "/" for a uid it does not list, unless the pod sets
// HOME; a missing workingDir is made.
func TestSecurityHomeAndWorkingDir(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: home}
spec:
  restartPolicy: Never
  containers:
  - name: root
    image: ` + busybox + `
    command: [sh, -c, 'echo "$HOME"; pwd']
    workingDir: /made/for/me
  - name: www-data
    image: ` + busybox + `
    securityContext: {runAsUser: 33}
    command: [sh, -c, 'echo "$HOME"']
  - name: unlisted
    image: ` + busybox + `
    securityContext: {runAsUser: 4321}
    command: [sh, -c, 'echo "$HOME"']
  - name: own-home
    image: ` + busybox + `
    env: [{name: HOME, value: /custom}]
    command: [sh, -c, 'echo "$HOME"']
`)
	n.waitPod("home", 2*time.Minute, podPhase(corev1.PodSucceeded))
	for name, want := range map[string][]string{
		"root":     {"/root", "/made/for/me"},
		"www-data": {"/var/www"},
		"unlisted": {"/"},
		"own-home": {"/custom"},
	} {
		out, err := n.logs("home", name, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(out); !slices.Equal(got, want) {
			t.Errorf("container %s printed %q, want %q", name, got, want)
		}
	}
}

// A privileged container holds every capability, sees /sys writable and
// /proc unmasked, and may mount; an unprivileged one of the same pod may
// not.
func TestSecurityPrivileged(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: priv}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: privileged
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext: {privileged: true}
  - name: plain
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("priv", 2*time.Minute, podReady)
	status := n.execOut("priv", "privileged", "cat", "/proc/1/status")
	if eff, bnd := statusField(status, "CapEff"), statusField(status, "CapBnd"); eff == "" || eff != bnd {
		t.Errorf("privileged: CapEff %s, want the whole bounding set %s", eff, bnd)
	}
	if mountOf(t, n.execOut("priv", "privileged", "cat", "/proc/mounts"), "/sys")[3][:2] != "rw" {
		t.Errorf("privileged: /sys is not read-write")
	}
	if mountOf(t, n.execOut("priv", "plain", "cat", "/proc/mounts"), "/sys")[3][:2] != "ro" {
		t.Errorf("unprivileged: /sys is not read-only")
	}
	// The kubelet's masked and read-only /proc paths hold for the
	// unprivileged container only: a masked file is /dev/null (1:3) there,
	// /proc/sys is read-only. /proc/timer_list is one of the masked files
	// this kernel has.
	if _, err := os.Stat("/proc/timer_list"); err == nil {
		if got := strings.TrimSpace(n.execOut("priv", "plain", "stat", "-c", "%F %t:%T", "/proc/timer_list")); got != "character special file 1:3" {
			t.Errorf("unprivileged: /proc/timer_list is %q, want /dev/null bound over it", got)
		}
		if got := strings.TrimSpace(n.execOut("priv", "privileged", "stat", "-c", "%F", "/proc/timer_list")); strings.HasPrefix(got, "character") {
			t.Errorf("privileged: /proc/timer_list is %q, want the kernel's file", got)
		}
	}
	if mountOf(t, n.execOut("priv", "plain", "cat", "/proc/mounts"), "/proc/sys")[3][:2] != "ro" {
		t.Errorf("unprivileged: /proc/sys is not read-only")
	}
	n.execOut("priv", "privileged", "sh", "-c", "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && umount /mnt/t")
	if _, err := n.execErr("priv", "plain", "sh", "-c", "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t"); err == nil {
		t.Errorf("an unprivileged container mounted a tmpfs")
	}
}

// A Localhost seccomp profile from the kubelet's seccomp directory is what
// filters the container: one that makes mkdir fail with EPERM does; a
// profile that does not exist keeps the container from being created, with
// the reason in its status.
func TestSecuritySeccompLocalhost(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(node.Dir(), "kubelet", "seccomp", "e2e")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const profile = `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}`
	if err := os.WriteFile(filepath.Join(dir, "no-mkdir.json"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: localhost}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    seccompProfile: {type: Localhost, localhostProfile: e2e/no-mkdir.json}
  containers:
  - name: filtered
    image: ` + busybox + `
    command: [sleep, "3600"]
  - name: missing
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext:
      seccompProfile: {type: Localhost, localhostProfile: e2e/not-there.json}
  - name: default
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext:
      seccompProfile: {type: RuntimeDefault}
`)
	p := n.waitPod("localhost", 2*time.Minute, func(p *corev1.Pod) error {
		if err := containerRunning("filtered")(p); err != nil {
			return err
		}
		if err := containerRunning("default")(p); err != nil {
			return err
		}
		return containerWaitingReason("missing", "CreateContainerError")(p)
	})
	if msg := containerStatus(t, p, "missing").State.Waiting.Message; !strings.Contains(msg, "not-there.json") {
		t.Errorf("a missing profile is reported as %q, want its name", msg)
	}
	out, err := n.execErr("localhost", "filtered", "mkdir", "/tmp/d")
	if err == nil {
		t.Errorf("the Localhost profile let mkdir through")
	} else if !strings.Contains(out+err.Error(), "Operation not permitted") {
		t.Errorf("mkdir under the Localhost profile: %v %q, want EPERM", err, out)
	}
	if got := statusField(n.execOut("localhost", "filtered", "cat", "/proc/self/status"), "Seccomp"); got != "2" {
		t.Errorf("Localhost: Seccomp %q, want 2", got)
	}
	n.execOut("localhost", "default", "mkdir", "/tmp/d")
}

// The image's USER decides who a container runs as when the pod does not:
// a uid, a name from the image's /etc/passwd, with or without a group
// (which Kubernetes drops).
// runAsNonRoot admits a numeric non-root USER, and refuses a named one,
// which the kubelet cannot check, unless runAsUser settles it.
func TestSecurityImageUser(t *testing.T) {
	t.Parallel()
	const repo = "gcr.io/k8s-staging-cri-tools/test-image-user-"
	n := newNS(t)
	container := func(name, image, extra string) string {
		return `
  - name: ` + name + `
    image: ` + repo + image + `:latest
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'id -u; id -g; exec sleep 3600']` + extra
	}
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: imageusers}
spec:
  terminationGracePeriodSeconds: 1
  containers:` +
		container("uid", "uid", "") +
		container("username", "username", "") +
		container("uid-group", "uid-group", "") +
		container("username-group", "username-group", "") +
		container("username-runasgroup", "username", "\n    securityContext: {runAsGroup: 5000}") + `
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsNonRoot: true}
  containers:` +
		container("uid", "uid", "") +
		container("username", "username", "") +
		container("username-overridden", "username", "\n    securityContext: {runAsUser: 4444}") + `
`)
	n.waitPod("imageusers", 3*time.Minute, podReady)
	for name, want := range map[string][]string{
		"uid":      {"1002", "0"},
		"username": {"33", "33"},
		// The kubelet passes on only the user part of USER as run_as_user
		// or run_as_username, so the group is lost: the primary group is
		// the user's in /etc/passwd, else 0 (kubernetes/kubernetes#61967,
		// containerd does the same).
		"uid-group":      {"1003", "0"},
		"username-group": {"33", "33"},
		// runAsGroup replaces the named user's group.
		"username-runasgroup": {"33", "5000"},
	} {
		eventually(t, 30*time.Second, name+" logs", func() error {
			out, err := n.logs("imageusers", name, false)
			if err != nil {
				return err
			}
			if got := lines(out); !slices.Equal(got, want) {
				return fmt.Errorf("container %s: id -u, -g printed %q, want %q", name, got, want)
			}
			return nil
		})
	}
	p := n.waitPod("nonroot", 2*time.Minute, func(p *corev1.Pod) error {
		for _, cond := range []func(*corev1.Pod) error{
			containerRunning("uid"),
			containerRunning("username-overridden"),
			containerWaitingReason("username", "CreateContainerConfigError"),
		} {
			if err := cond(p); err != nil {
				return err
			}
		}
		return nil
	})
	if msg := containerStatus(t, p, "username").State.Waiting.Message; !strings.Contains(msg, "non-numeric user (www-data)") {
		t.Errorf("runAsNonRoot refused a named image user with %q", msg)
	}
	if got := strings.TrimSpace(n.execOut("nonroot", "username-overridden", "id", "-u")); got != "4444" {
		t.Errorf("runAsUser over a named image user: uid %s, want 4444", got)
	}
}

// A node device mounted into a pod with a hostPath volume is not usable
// unless the container is privileged: the device cgroup lets an ordinary
// container open only the usual pseudo-devices (such as /dev/null).
func TestSecurityHostDeviceNeedsPrivileged(t *testing.T) {
	t.Parallel()
	if fi, err := os.Stat("/dev/kmsg"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skipf("the node has no /dev/kmsg character device: %v", err)
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: devices}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: plain
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: kmsg, mountPath: /host/kmsg}
    - {name: devnull, mountPath: /host/null}
  - name: privileged
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext: {privileged: true}
    volumeMounts: [{name: kmsg, mountPath: /host/kmsg}]
  volumes:
  - name: kmsg
    hostPath: {path: /dev/kmsg, type: CharDevice}
  - name: devnull
    hostPath: {path: /dev/null, type: CharDevice}
`)
	n.waitPod("devices", 2*time.Minute, podReady)
	n.execOut("devices", "plain", "sh", "-c", "echo discarded > /host/null")
	out, err := n.execErr("devices", "plain", "dd", "if=/host/kmsg", "of=/dev/null", "bs=8192", "count=1")
	if err == nil {
		t.Errorf("an unprivileged container read the node's /dev/kmsg")
	} else if !strings.Contains(out+err.Error(), "Operation not permitted") {
		t.Errorf("an unprivileged container's read of /dev/kmsg failed with %v %q, want EPERM", err, out)
	}
	n.execOut("devices", "privileged", "dd", "if=/host/kmsg", "of=/dev/null", "bs=8192", "count=1")
}

// hostUsers: false asks for a user namespace. The node says whether its
// runtime can make one; if it can, the pod's root is not the node's (its
// uid_map is not the identity), and if it cannot, the pod is refused with
// that reason rather than run in the node's user namespace.
func TestSecurityUserNamespace(t *testing.T) {
	t.Parallel()
	var nd corev1.Node
	if err := json.Unmarshal([]byte(kubectl(t, "", "get", "node", node.NodeName(), "-o", "json")), &nd); err != nil {
		t.Fatal(err)
	}
	userns := false
	for _, h := range nd.Status.RuntimeHandlers {
		if h.Name == "" && h.Features != nil && h.Features.UserNamespaces != nil {
			userns = *h.Features.UserNamespaces
		}
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: userns}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	if !userns {
		n.waitEvent("userns", "FailedCreatePodSandBox", "does not support user namespaces", 1, 2*time.Minute)
		if p := n.pod("userns"); p.Status.Phase != corev1.PodPending || containerStatus(t, p, "app").ContainerID != "" {
			t.Errorf("a pod asking for a user namespace the runtime cannot make: phase %s, %s", p.Status.Phase, containerStates(p))
		}
		return
	}
	n.waitPod("userns", 2*time.Minute, podReady)
	if got := strings.Join(strings.Fields(n.execOut("userns", "app", "cat", "/proc/self/uid_map")), " "); got == "0 0 4294967295" {
		t.Errorf("hostUsers false, yet the container's uid_map is the node's: %q", got)
	}
}

// On a node without SELinux, seLinuxOptions (as many charts set them) are
// ignored and the pod runs, as under containerd and CRI-O.
func TestSecuritySELinuxOptionsWithoutSELinux(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/sys/fs/selinux/enforce"); err == nil {
		t.Skip("the node runs SELinux: the labels would apply")
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: labelled}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    seLinuxOptions: {level: "s0:c123,c456"}
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext:
      seLinuxOptions: {type: spc_t}
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, emptyDir: {}}
`)
	n.waitPod("labelled", 2*time.Minute, podReady)
	n.execOut("labelled", "app", "touch", "/data/ok")
}
