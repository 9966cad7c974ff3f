// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// mountOf returns the /proc/mounts line of a container's mount point.
func mountOf(t *testing.T, mounts, point string) []string {
	t.Helper()
	for _, l := range lines(mounts) {
		if f := strings.Fields(l); len(f) >= 4 && f[1] == point {
			return f
		}
	}
	t.Fatalf("no mount on %s in:\n%s", point, mounts)
	return nil
}

// An emptyDir is shared by a pod's containers: what one writes, the other
// reads. One with medium Memory is a tmpfs inside the container, of the
// size its sizeLimit names; a plain one is not.
func TestVolumeEmptyDir(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: scratch}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: ` + busybox + `
    command: [sh, -c, 'echo "from the writer" > /shared/note; echo "in memory" > /mem/note; exec sleep 3600']
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: mem, mountPath: /mem}
  - name: reader
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: shared, mountPath: /data}
    - {name: mem, mountPath: /ram}
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
`)
	n.waitPod("scratch", 2*time.Minute, podReady)
	eventually(t, 30*time.Second, "the writer's files in the reader", func() error {
		out, err := n.execErr("scratch", "reader", "cat", "/data/note", "/ram/note")
		if err != nil {
			return err
		}
		if got := lines(out); !slices.Equal(got, []string{"from the writer", "in memory"}) {
			return fmt.Errorf("reader sees %q", got)
		}
		return nil
	})
	mounts := n.execOut("scratch", "reader", "cat", "/proc/mounts")
	mem := mountOf(t, mounts, "/ram")
	if mem[2] != "tmpfs" {
		t.Errorf("medium Memory emptyDir is %s, want tmpfs: %v", mem[2], mem)
	}
	if !slices.Contains(strings.Split(mem[3], ","), "size=8192k") {
		t.Errorf("medium Memory emptyDir with sizeLimit 8Mi mounted with %s, want size=8192k", mem[3])
	}
	if disk := mountOf(t, mounts, "/data"); disk[2] == "tmpfs" {
		t.Errorf("plain emptyDir is a tmpfs: %v", disk)
	}
	// Both are writable.
	n.execOut("scratch", "reader", "sh", "-c", "echo back > /data/reply && echo back > /ram/reply")
	if got := strings.TrimSpace(n.execOut("scratch", "writer", "cat", "/shared/reply", "/mem/reply")); got != "back\nback" {
		t.Errorf("writer sees the reader's replies as %q", got)
	}
}

// A configMap volume shows each key as a file with its content (items map
// a key to a path of its own), read-only; when the configMap changes, the
// running container's file follows within the kubelet's sync period.
func TestVolumeConfigMapUpdates(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data:
  greeting: hello
  colour: blue
---
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: all, mountPath: /etc/settings}
    - {name: some, mountPath: /etc/picked}
  volumes:
  - name: all
    configMap: {name: settings}
  - name: some
    configMap:
      name: settings
      items: [{key: colour, path: sub/paint}]
`)
	n.waitPod("reader", 2*time.Minute, podReady)
	if got := n.execOut("reader", "app", "cat", "/etc/settings/greeting", "/etc/settings/colour", "/etc/picked/sub/paint"); got != "helloblueblue" {
		t.Fatalf("configMap files read %q, want hello, blue and blue", got)
	}
	if out, err := n.execErr("reader", "app", "ls", "/etc/picked"); err != nil || strings.TrimSpace(out) != "sub" {
		t.Errorf("items volume lists %q (%v), want only sub", out, err)
	}
	if _, err := n.execErr("reader", "app", "touch", "/etc/settings/new"); err == nil {
		t.Errorf("a configMap volume is writable")
	}

	n.kubectl("", "patch", "configmap", "settings", "--type=merge", "-p", `{"data":{"greeting":"goodbye","colour":"red"}}`)
	eventually(t, 2*time.Minute, "the updated configMap in the container", func() error {
		out, err := n.execErr("reader", "app", "cat", "/etc/settings/greeting", "/etc/picked/sub/paint")
		if err != nil {
			return err
		}
		if out != "goodbyered" {
			return fmt.Errorf("files read %q, want goodbye and red", out)
		}
		return nil
	})
	if p := n.pod("reader"); p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the update restarted the container: %s", containerStates(p))
	}
}

// A secret volume shows the secret's decoded values, with defaultMode on
// each file unless an item names a mode of its own, read-only.
func TestVolumeSecret(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData:
  username: admin
  password: s3cr3t
---
apiVersion: v1
kind: Pod
metadata: {name: holder}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: creds, mountPath: /etc/creds}
    - {name: picked, mountPath: /etc/picked}
  volumes:
  - name: creds
    secret: {secretName: creds, defaultMode: 0400}
  - name: picked
    secret:
      secretName: creds
      defaultMode: 0440
      items:
      - {key: username, path: user}
      - {key: password, path: pass, mode: 0600}
`)
	n.waitPod("holder", 2*time.Minute, podReady)
	if got := n.execOut("holder", "app", "cat", "/etc/creds/username", "/etc/creds/password"); got != "admins3cr3t" {
		t.Errorf("secret files read %q, want admin and s3cr3t", got)
	}
	// The files are links into the volume's current data; -L stats the file.
	modes := map[string]string{
		"/etc/creds/username": "400", "/etc/creds/password": "400",
		"/etc/picked/user": "440", "/etc/picked/pass": "600",
	}
	for path, want := range modes {
		if got := strings.TrimSpace(n.execOut("holder", "app", "stat", "-L", "-c", "%a", path)); got != want {
			t.Errorf("%s has mode %s, want %s", path, got, want)
		}
	}
	if got := n.execOut("holder", "app", "cat", "/etc/picked/user", "/etc/picked/pass"); got != "admins3cr3t" {
		t.Errorf("secret items read %q, want admin and s3cr3t", got)
	}
	if _, err := n.execErr("holder", "app", "touch", "/etc/creds/new"); err == nil {
		t.Errorf("a secret volume is writable")
	}
	// Secrets live in memory, never on the node's disk.
	if m := mountOf(t, n.execOut("holder", "app", "cat", "/proc/mounts"), "/etc/creds"); m[2] != "tmpfs" {
		t.Errorf("secret volume is %s, want tmpfs: %v", m[2], m)
	}
}

// tokenClaims decodes the claims of a JWT, checking its shape.
func tokenClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d dot-separated parts, want 3: %q", len(parts), token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("token payload: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("token payload %s: %v", payload, err)
	}
	return claims
}

// claim digs a claim out of a JWT's claims by its path.
func claim(claims map[string]any, path ...string) any {
	var v any = claims
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// A pod gets its service account's projected token, with the cluster's CA
// and its namespace beside it, at the well-known path, readable by a
// non-root process too; a projected serviceAccountToken source with an
// audience gets a token for that audience.
func TestVolumeServiceAccountToken(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  serviceAccountName: robot
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: vault, mountPath: /var/run/vault}
  volumes:
  - name: vault
    projected:
      sources:
      - serviceAccountToken: {audience: vault, expirationSeconds: 3600, path: token}
---
apiVersion: v1
kind: Pod
metadata: {name: nonroot}
spec:
  terminationGracePeriodSeconds: 1
  serviceAccountName: robot
  securityContext: {runAsUser: 1000, runAsGroup: 1000}
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("client", 2*time.Minute, podReady)
	n.waitPod("nonroot", 2*time.Minute, podReady)
	// A process that is not root reads its own token too.
	if got := claim(tokenClaims(t, n.execOut("nonroot", "app", "cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")), "kubernetes.io", "pod", "name"); got != "nonroot" {
		t.Errorf("non-root pod's token names pod %v", got)
	}
	p := n.pod("client")
	const dir = "/var/run/secrets/kubernetes.io/serviceaccount/"
	claims := tokenClaims(t, n.execOut("client", "app", "cat", dir+"token"))
	if got := claim(claims, "kubernetes.io", "serviceaccount", "name"); got != "robot" {
		t.Errorf("token names service account %v, want robot (claims %v)", got, claims)
	}
	if got := claim(claims, "kubernetes.io", "namespace"); got != n.name {
		t.Errorf("token names namespace %v, want %s", got, n.name)
	}
	if got := claim(claims, "kubernetes.io", "pod", "name"); got != "client" {
		t.Errorf("token names pod %v, want client", got)
	}
	if got := claim(claims, "kubernetes.io", "pod", "uid"); got != string(p.UID) {
		t.Errorf("token names pod uid %v, want %s", got, p.UID)
	}
	if got, want := claim(claims, "sub"), "system:serviceaccount:"+n.name+":robot"; got != want {
		t.Errorf("token subject %v, want %s", got, want)
	}
	if got := strings.TrimSpace(n.execOut("client", "app", "cat", dir+"namespace")); got != n.name {
		t.Errorf("namespace file %q, want %s", got, n.name)
	}
	ca := n.execOut("client", "app", "cat", dir+"ca.crt")
	wantCA := n.kubectl("", "get", "configmap", "kube-root-ca.crt", "-o", `jsonpath={.data.ca\.crt}`)
	if !strings.HasPrefix(ca, "-----BEGIN CERTIFICATE-----") || strings.TrimSpace(ca) != strings.TrimSpace(wantCA) {
		t.Errorf("ca.crt %q, want the cluster's CA %q", ca, wantCA)
	}

	vault := tokenClaims(t, n.execOut("client", "app", "cat", "/var/run/vault/token"))
	if aud, _ := claim(vault, "aud").([]any); len(aud) != 1 || aud[0] != "vault" {
		t.Errorf("projected token audience %v, want [vault]", claim(vault, "aud"))
	}
	if got := claim(vault, "kubernetes.io", "serviceaccount", "name"); got != "robot" {
		t.Errorf("projected token names service account %v, want robot", got)
	}
}

// subPath mounts one directory or file of a volume: a container sees only
// its sub directory of a shared emptyDir (made for it if missing), and a
// configMap key mounted by subPath is a file beside the image's own files.
func TestVolumeSubPath(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {app.conf: "setting=1\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: subpaths}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: ` + busybox + `
    command: [sh, -c, 'echo "from a" > /mine/file; exec sleep 3600']
    volumeMounts:
    - {name: shared, mountPath: /mine, subPath: a}
    - {name: conf, mountPath: /etc/app.conf, subPath: app.conf}
  - name: whole
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: shared, mountPath: /all}
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: conf, configMap: {name: conf}}
`)
	n.waitPod("subpaths", 2*time.Minute, podReady)
	eventually(t, 30*time.Second, "a's file in the whole volume", func() error {
		out, err := n.execErr("subpaths", "whole", "cat", "/all/a/file")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "from a" {
			return fmt.Errorf("read %q", out)
		}
		return nil
	})
	n.execOut("subpaths", "whole", "sh", "-c", "echo outside > /all/top")
	if out, err := n.execErr("subpaths", "a", "ls", "/mine"); err != nil || strings.TrimSpace(out) != "file" {
		t.Errorf("subPath mount lists %q (%v), want only its own file", out, err)
	}
	if got := n.execOut("subpaths", "a", "cat", "/etc/app.conf"); got != "setting=1\n" {
		t.Errorf("configMap subPath file reads %q", got)
	}
	// The image's /etc is still there around the mounted file.
	if _, err := n.execErr("subpaths", "a", "cat", "/etc/passwd"); err != nil {
		t.Errorf("a subPath file mount hid the image's /etc: %v", err)
	}
}

// A downwardAPI volume shows the pod's own metadata and resources, and the
// labels file follows when the pod is relabelled.
func TestVolumeDownwardAPI(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: self
  labels: {tier: web}
  annotations: {note: hello}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    resources:
      limits: {memory: 64Mi, cpu: 250m}
    volumeMounts: [{name: info, mountPath: /etc/podinfo}]
  volumes:
  - name: info
    downwardAPI:
      items:
      - {path: name, fieldRef: {fieldPath: metadata.name}}
      - {path: namespace, fieldRef: {fieldPath: metadata.namespace}}
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
      - {path: mem_limit, resourceFieldRef: {containerName: app, resource: limits.memory, divisor: 1Mi}}
      - {path: cpu_limit, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}
`)
	n.waitPod("self", 2*time.Minute, podReady)
	for file, want := range map[string]string{
		"name": "self", "namespace": n.name, "mem_limit": "64", "cpu_limit": "250",
	} {
		if got := strings.TrimSpace(n.execOut("self", "app", "cat", "/etc/podinfo/"+file)); got != want {
			t.Errorf("downwardAPI %s: %q, want %q", file, got, want)
		}
	}
	if got := n.execOut("self", "app", "cat", "/etc/podinfo/labels"); !strings.Contains(got, `tier="web"`) {
		t.Errorf("labels file %q, want tier=\"web\"", got)
	}
	if got := n.execOut("self", "app", "cat", "/etc/podinfo/annotations"); !strings.Contains(got, `note="hello"`) {
		t.Errorf("annotations file %q, want note=\"hello\"", got)
	}
	n.kubectl("", "label", "pod", "self", "tier=db", "--overwrite")
	eventually(t, 2*time.Minute, "the new label in the labels file", func() error {
		out, err := n.execErr("self", "app", "cat", "/etc/podinfo/labels")
		if err != nil {
			return err
		}
		if !strings.Contains(out, `tier="db"`) {
			return fmt.Errorf("labels file %q", out)
		}
		return nil
	})
}

// A hostPath volume is the node's directory: what the pod writes, the node
// has; a volumeMount with readOnly refuses writes, though the same volume
// mounted read-write in another container takes them.
func TestVolumeHostPathAndReadOnlyMount(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	dir, err := os.MkdirTemp("", "nodea-hostpath.")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "from-node"), []byte("node data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hostdir}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: rw
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host}]
  - name: ro
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host, readOnly: true}]
  volumes:
  - name: host
    hostPath: {path: ` + dir + `, type: Directory}
`)
	n.waitPod("hostdir", 2*time.Minute, podReady)
	if got := n.execOut("hostdir", "ro", "cat", "/host/from-node"); got != "node data\n" {
		t.Errorf("pod reads the node's file as %q", got)
	}
	n.execOut("hostdir", "rw", "sh", "-c", "echo pod data > /host/from-pod")
	if got, err := os.ReadFile(filepath.Join(dir, "from-pod")); err != nil || string(got) != "pod data\n" {
		t.Errorf("the node reads the pod's file as %q, %v", got, err)
	}
	out, err := n.execErr("hostdir", "ro", "sh", "-c", "echo x > /host/denied")
	if err == nil {
		t.Errorf("a readOnly volumeMount took a write")
	} else if !strings.Contains(out+err.Error(), "Read-only file system") {
		t.Errorf("a readOnly volumeMount refused a write with %v %q, want EROFS", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "denied")); err == nil {
		t.Errorf("the readOnly mount's write reached the node")
	}
}

// An image volume mounts another image's files, read-only, whole or by a
// sub path; the container runs from its own image beside it, and other
// volumes' subPath mounts work beside it.
func TestVolumeImage(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: imagevol}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: web, mountPath: /web}
    - {name: web, mountPath: /nginx-conf, subPath: etc/nginx/conf.d}
    - {name: web, mountPath: /etc/default.conf, subPath: etc/nginx/conf.d/default.conf}
    # Beside an image volume, the kubelet marks every subPath mount as an
    # image sub path, this emptyDir one too.
    - {name: scratch, mountPath: /scratch-sub, subPath: sub}
  volumes:
  - name: web
    image: {reference: "` + nginx + `", pullPolicy: IfNotPresent}
  - {name: scratch, emptyDir: {}}
`)
	n.waitPod("imagevol", 2*time.Minute, podReady)
	n.execOut("imagevol", "app", "touch", "/scratch-sub/writable")
	if got := n.execOut("imagevol", "app", "cat", "/web/etc/nginx/conf.d/default.conf"); !strings.Contains(got, "listen       80;") {
		t.Errorf("image volume's nginx config reads %q", got)
	}
	if got := n.execOut("imagevol", "app", "cat", "/nginx-conf/default.conf"); !strings.Contains(got, "listen       80;") {
		t.Errorf("image volume sub path's nginx config reads %q", got)
	}
	if got := n.execOut("imagevol", "app", "cat", "/etc/default.conf"); !strings.Contains(got, "listen       80;") {
		t.Errorf("image volume file sub path reads %q", got)
	}
	if _, err := n.execErr("imagevol", "app", "test", "-x", "/web/usr/sbin/nginx"); err != nil {
		t.Errorf("image volume lacks the image's nginx binary: %v", err)
	}
	// The container's own root is its image's, without nginx's files.
	if _, err := n.execErr("imagevol", "app", "test", "-e", "/usr/sbin/nginx"); err == nil {
		t.Errorf("the volume's image leaked into the container's root")
	}
	for _, path := range []string{"/web/new", "/nginx-conf/new"} {
		out, err := n.execErr("imagevol", "app", "touch", path)
		if err == nil {
			t.Errorf("an image volume took a write at %s", path)
		} else if !strings.Contains(out+err.Error(), "Read-only file system") {
			t.Errorf("an image volume refused a write at %s with %v %q, want EROFS", path, err, out)
		}
	}
}

// When a pod with every kind of volume mount is deleted, the node keeps
// nothing of it: podshim lists none of its containers or its sandbox, no
// mount on the node names them (rootfs, image volume, sub paths), and no
// cgroup is left for them.
func TestVolumeMountsGoneWithPod(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: conf}
data: {key: value}
---
apiVersion: v1
kind: Pod
metadata: {name: mounts}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: init
    image: ` + busybox + `
    command: [sh, -c, 'echo ok > /scratch/init']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: scratch, mountPath: /sub, subPath: sub}
    - {name: mem, mountPath: /mem}
    - {name: conf, mountPath: /conf}
    - {name: conf, mountPath: /etc/key, subPath: key}
    - {name: web, mountPath: /web}
    - {name: web, mountPath: /web-conf, subPath: etc/nginx}
    - {name: web-again, mountPath: /web-again}
    - {name: self, mountPath: /self}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory}}
  - {name: conf, configMap: {name: conf}}
  - name: web
    image: {reference: "` + nginx + `"}
  # The same image twice, and the container's own image as a volume.
  - name: web-again
    image: {reference: "` + nginx + `"}
  - name: self
    image: {reference: "` + busybox + `"}
`)
	p := n.waitPod("mounts", 2*time.Minute, podReady)
	for _, f := range []string{"/web/usr/sbin/nginx", "/web-again/usr/sbin/nginx", "/self/bin/busybox", "/web-conf/conf.d/default.conf"} {
		n.execOut("mounts", "app", "test", "-e", f)
	}
	ctx := t.Context()
	uid := "io.kubernetes.pod.uid=" + string(p.UID)
	out, err := node.Crictl(ctx, "pods", "-q", "--label", uid)
	if err != nil {
		t.Fatal(err)
	}
	ids := lines(out)
	if len(ids) != 1 {
		t.Fatalf("podshim lists sandboxes %q for the pod", ids)
	}
	for _, name := range []string{"init", "app"} {
		ids = append(ids, strings.TrimPrefix(containerStatus(t, p, name).ContainerID, "podshim://"))
	}
	// While it runs, the node has mounts for it (so the check below can
	// find them).
	if mi, err := os.ReadFile("/proc/self/mountinfo"); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(mi), ids[2]) {
		t.Fatalf("no mount on the node names the running container %s; the check cannot work", ids[2])
	}

	n.kubectl("", "delete", "pod", "mounts", "--wait=true", "--timeout=90s")
	// The kubelet removes a deleted pod's containers and sandbox in its
	// garbage collection, once a minute.
	eventually(t, 3*time.Minute, "the pod's sandbox and containers gone from podshim", func() error {
		for _, kind := range []string{"pods", "ps"} {
			args := []string{kind, "-q", "--label", uid}
			if kind == "ps" {
				args = append(args, "-a")
			}
			out, err := node.Crictl(ctx, args...)
			if err != nil {
				return err
			}
			if l := lines(out); len(l) > 0 {
				return fmt.Errorf("crictl %s lists %q", kind, l)
			}
		}
		return nil
	})
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(string(mi)) {
		for _, id := range ids {
			if strings.Contains(l, id) {
				t.Errorf("mount left for %s: %s", id, l)
			}
		}
	}
	for _, hier := range []string{"memory", "pids", "cpu", "devices", "freezer"} {
		root := filepath.Join("/sys/fs/cgroup", hier, node.CgroupRoot())
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			for _, id := range ids {
				if strings.Contains(d.Name(), id) {
					t.Errorf("cgroup left for %s: %s", id, path)
				}
			}
			return nil
		})
	}
}

// sharedHostDir makes a directory on the node that is a mount point of its
// own, shared, so mounts below it propagate to the containers that ask for
// it; the test's end unmounts everything below it and removes it.
func sharedHostDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "nodea-propagation.")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		_ = os.Remove(dir)
		t.Fatalf("bind %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
		_ = os.RemoveAll(dir)
	})
	if err := unix.Mount("", dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		t.Fatalf("make %s shared: %v", dir, err)
	}
	return dir
}

// hostTmpfs mounts a tmpfs on the node at dir/name holding one file.
func hostTmpfs(t *testing.T, dir, name, content string) {
	t.Helper()
	at := filepath.Join(dir, name)
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", at, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", at, err)
	}
	if err := os.WriteFile(filepath.Join(at, "file"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A readOnly volumeMount is read-only at its top only: a mount below it in
// the volume stays writable, unless recursiveReadOnly is Enabled, which
// makes the whole tree read-only. The node says it can.
func TestVolumeRecursiveReadOnly(t *testing.T) {
	t.Parallel()
	var nd corev1.Node
	if err := json.Unmarshal([]byte(kubectl(t, "", "get", "node", node.NodeName(), "-o", "json")), &nd); err != nil {
		t.Fatal(err)
	}
	rro := false
	for _, h := range nd.Status.RuntimeHandlers {
		if h.Name == "" && h.Features != nil && h.Features.RecursiveReadOnlyMounts != nil {
			rro = *h.Features.RecursiveReadOnlyMounts
		}
	}
	if !rro {
		// podshim reports what the kernel can do (mount_setattr, Linux 5.12).
		t.Skipf("the node's default runtime handler cannot make mounts recursively read-only: %+v", nd.Status.RuntimeHandlers)
	}
	dir := sharedHostDir(t)
	hostTmpfs(t, dir, "sub", "below\n")
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: rro}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: rro
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host, readOnly: true, recursiveReadOnly: Enabled}]
  - name: ro
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host, readOnly: true}]
  volumes:
  - name: host
    hostPath: {path: ` + dir + `, type: Directory}
`)
	n.waitPod("rro", 2*time.Minute, podReady)
	for _, c := range []string{"rro", "ro"} {
		if got := n.execOut("rro", c, "cat", "/host/sub/file"); got != "below\n" {
			t.Errorf("%s: the volume's submount reads %q", c, got)
		}
		if _, err := n.execErr("rro", c, "touch", "/host/top"); err == nil {
			t.Errorf("%s: a readOnly mount took a write", c)
		}
	}
	if _, err := n.execErr("rro", "ro", "touch", "/host/sub/ro-wrote"); err != nil {
		t.Errorf("readOnly without recursiveReadOnly: the submount refused a write: %v", err)
	}
	if out, err := n.execErr("rro", "rro", "touch", "/host/sub/rro-wrote"); err == nil {
		t.Errorf("recursiveReadOnly: the submount took a write")
	} else if !strings.Contains(out+err.Error(), "Read-only file system") {
		t.Errorf("recursiveReadOnly: the submount refused a write with %v %q, want EROFS", err, out)
	}
}

// mountPropagation: with HostToContainer a container sees what the node
// mounts in the volume after it started, with None it does not; with
// Bidirectional (privileged) the node sees what the container mounts.
func TestVolumeMountPropagation(t *testing.T) {
	t.Parallel()
	dir := sharedHostDir(t)
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: propagation}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: private
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host, mountPropagation: None}]
  - name: slave
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: host, mountPath: /host, mountPropagation: HostToContainer}]
  - name: shared
    image: ` + busybox + `
    command: [sleep, "3600"]
    securityContext: {privileged: true}
    volumeMounts: [{name: host, mountPath: /host, mountPropagation: Bidirectional}]
  volumes:
  - name: host
    hostPath: {path: ` + dir + `, type: Directory}
`)
	n.waitPod("propagation", 2*time.Minute, podReady)

	hostTmpfs(t, dir, "late", "mounted later\n")
	for _, c := range []string{"slave", "shared"} {
		eventually(t, 30*time.Second, c+" sees the node's later mount", func() error {
			out, err := n.execErr("propagation", c, "cat", "/host/late/file")
			if err != nil {
				return err
			}
			if out != "mounted later\n" {
				return fmt.Errorf("read %q", out)
			}
			return nil
		})
	}
	// The private container has the directory, not the mount on it.
	if out, err := n.execErr("propagation", "private", "cat", "/host/late/file"); err == nil {
		t.Errorf("mountPropagation None: the node's later mount reached the container: %q", out)
	}

	n.execOut("propagation", "shared", "sh", "-c", "mkdir -p /host/fromc && mount -t tmpfs none /host/fromc && echo from container > /host/fromc/file")
	got, err := os.ReadFile(filepath.Join(dir, "fromc", "file"))
	if err != nil || string(got) != "from container\n" {
		t.Errorf("Bidirectional: the node reads the container's mount as %q, %v", got, err)
	}
	// The other containers see it too: HostToContainer through the node.
	if got := n.execOut("propagation", "slave", "cat", "/host/fromc/file"); got != "from container\n" {
		t.Errorf("HostToContainer: the shared container's mount reads %q", got)
	}
}

// /dev/shm is the pod's: its containers share it (64 MiB, as containerd
// makes it), and a memory emptyDir mounted there replaces it with its own
// size, shared too.
func TestVolumeDevShm(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: shm}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: ` + busybox + `, command: [sleep, "3600"]}
  - {name: b, image: ` + busybox + `, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: bigshm}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: shm, mountPath: /dev/shm}]
  - name: b
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: shm, mountPath: /dev/shm}]
  volumes:
  - {name: shm, emptyDir: {medium: Memory, sizeLimit: 128Mi}}
`)
	for pod, size := range map[string]string{"shm": "size=65536k", "bigshm": "size=131072k"} {
		n.waitPod(pod, 2*time.Minute, podReady)
		m := mountOf(t, n.execOut(pod, "a", "cat", "/proc/mounts"), "/dev/shm")
		if m[2] != "tmpfs" || !slices.Contains(strings.Split(m[3], ","), size) {
			t.Errorf("pod %s: /dev/shm is %v, want a tmpfs with %s", pod, m, size)
		}
		n.execOut(pod, "a", "sh", "-c", "echo "+pod+" > /dev/shm/note")
		if got := strings.TrimSpace(n.execOut(pod, "b", "cat", "/dev/shm/note")); got != pod {
			t.Errorf("pod %s: container b reads a's /dev/shm note as %q", pod, got)
		}
	}
	// Each pod has its own.
	if out, err := n.execErr("shm", "b", "cat", "/dev/shm/note"); err != nil || strings.TrimSpace(out) != "shm" {
		t.Errorf("pod shm reads its note as %q, %v", out, err)
	}
}

// Removing an image that a running pod mounts as an image volume (as
// `crictl rmi` or the kubelet's image GC would) takes the image's name
// away but not the pod's files; a new pod pulls it again.
func TestVolumeImageOutlivesRemoval(t *testing.T) {
	t.Parallel()
	// Used by no other test of the package.
	const image = "gcr.io/k8s-staging-cri-tools/test-image-3:latest"
	n := newNS(t)
	manifest := func(name string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: vol, mountPath: /vol}]
  volumes:
  - name: vol
    image: {reference: "` + image + `", pullPolicy: IfNotPresent}
`
	}
	n.apply(manifest("first"))
	n.waitPod("first", 2*time.Minute, podReady)
	n.execOut("first", "app", "test", "-f", "/vol/test-image-3")

	ctx := t.Context()
	if out, err := node.Crictl(ctx, "rmi", image); err != nil {
		t.Fatalf("crictl rmi: %v: %s", err, out)
	}
	if out, err := node.Crictl(ctx, "images", "-q", image); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("after rmi, crictl images lists %q (%v)", out, err)
	}
	// The mounted files, and the layers under them, are still there.
	n.execOut("first", "app", "test", "-f", "/vol/test-image-3")
	n.execOut("first", "app", "cat", "/vol/etc/passwd")

	n.apply(manifest("second"))
	n.waitPod("second", 2*time.Minute, podReady)
	n.execOut("second", "app", "test", "-f", "/vol/test-image-3")
	n.execOut("first", "app", "test", "-f", "/vol/test-image-3")
}

// An emptyDir that grows past its sizeLimit gets its pod evicted: the
// kubelet measures the volume and reports the eviction in the pod's status.
func TestVolumeEmptyDirSizeLimitEvicts(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'dd if=/dev/zero of=/scratch/fill bs=1M count=8 && exec sleep 3600']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
  - {name: scratch, emptyDir: {sizeLimit: 2Mi}}
`)
	p := n.waitPod("hog", 3*time.Minute, podPhase(corev1.PodFailed))
	if p.Status.Reason != "Evicted" || !strings.Contains(p.Status.Message, "exceeds the limit") {
		t.Errorf("pod failed with reason %q message %q, want Evicted for the emptyDir's size", p.Status.Reason, p.Status.Message)
	}
}

// A container that writes past its ephemeral-storage limit in its own
// root filesystem gets its pod evicted: the kubelet reads the writable
// layer's usage from the runtime's container stats.
func TestVolumeEphemeralStorageLimitEvicts(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
  containers:
  - name: app
    image: ` + busybox + `
    command: [sh, -c, 'dd if=/dev/zero of=/fill bs=1M count=12 && exec sleep 3600']
    resources:
      limits: {ephemeral-storage: 4Mi}
`)
	p := n.waitPod("writer", 3*time.Minute, podPhase(corev1.PodFailed))
	if p.Status.Reason != "Evicted" || !strings.Contains(p.Status.Message, "ephemeral") {
		t.Errorf("pod failed with reason %q message %q, want Evicted for its ephemeral storage", p.Status.Reason, p.Status.Message)
	}
}

// loopDevice attaches a file of size bytes to a free loop device on the
// node and returns the device and the file; the test's end detaches it.
func loopDevice(t *testing.T, size int64) (dev, file string) {
	t.Helper()
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skipf("the node has no loop devices: %v", err)
	}
	f, err := os.CreateTemp("", "nodea-block.")
	if err != nil {
		t.Fatal(err)
	}
	file = f.Name()
	t.Cleanup(func() { _ = os.Remove(file) })
	if err := f.Truncate(size); err != nil {
		f.Close()
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("losetup", "--find", "--show", file).CombinedOutput()
	if err != nil {
		t.Skipf("losetup: %v: %s", err, out)
	}
	dev = strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v: %s", dev, err, out)
		}
	})
	return dev, file
}

// A raw block PersistentVolume reaches the container as a block device at
// its devicePath, readable and writable there (the runtime creates the
// node and allows it in the device cgroup), and what the pod writes is on
// the node's device.
func TestVolumeBlockDevice(t *testing.T) {
	t.Parallel()
	dev, file := loopDevice(t, 8<<20)
	n := newNS(t)
	pv := "block-" + n.name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The claim first: a bound volume is kept until its claim goes.
		_, _ = n.kubectlErr("", "delete", "pod", "blockuser", "blockreader", "--ignore-not-found", "--wait=true", "--timeout=90s")
		_, _ = n.kubectlErr("", "delete", "pvc", "raw", "--ignore-not-found", "--wait=true", "--timeout=90s")
		_, _ = node.Kubectl(ctx, "", "delete", "pv", pv, "--wait=true", "--timeout=90s")
	})
	n.apply(`apiVersion: v1
kind: PersistentVolume
metadata: {name: ` + pv + `}
spec:
  capacity: {storage: 8Mi}
  volumeMode: Block
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  claimRef: {namespace: ` + n.name + `, name: raw}
  local: {path: ` + dev + `}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: ["` + node.NodeName() + `"]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: raw}
spec:
  volumeMode: Block
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: ` + pv + `
  resources: {requests: {storage: 8Mi}}
`)
	// The pod comes once the claim is bound, so the scheduler need not
	// retry it.
	eventually(t, 2*time.Minute, "claim raw bound", func() error {
		out, err := n.kubectlErr("", "get", "pvc", "raw", "-o", "jsonpath={.status.phase}")
		if err != nil {
			return err
		}
		if out != "Bound" {
			return fmt.Errorf("claim is %q", out)
		}
		return nil
	})
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: blockuser}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeDevices: [{name: raw, devicePath: /dev/xvda}]
  volumes:
  - name: raw
    persistentVolumeClaim: {claimName: raw}
`)
	n.waitPod("blockuser", 3*time.Minute, podReady)
	if got := strings.TrimSpace(n.execOut("blockuser", "app", "stat", "-c", "%F", "/dev/xvda")); got != "block special file" {
		t.Fatalf("/dev/xvda is a %q, want a block device", got)
	}
	n.execOut("blockuser", "app", "sh", "-c", "echo from-the-pod | dd of=/dev/xvda bs=512 conv=sync,fsync")
	if got := strings.TrimSpace(n.execOut("blockuser", "app", "sh", "-c", "dd if=/dev/xvda bs=512 count=1 2>/dev/null | tr -d '\\000'")); got != "from-the-pod" {
		t.Errorf("the pod reads back %q", got)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "from-the-pod\n") {
		t.Errorf("the node's device starts with %q", data[:min(len(data), 32)])
	}

	// A pod that claims it read-only may read the device, not write it.
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: blockreader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeDevices: [{name: raw, devicePath: /dev/xvdb}]
  volumes:
  - name: raw
    persistentVolumeClaim: {claimName: raw, readOnly: true}
`)
	n.waitPod("blockreader", 2*time.Minute, podReady)
	if got := strings.TrimSpace(n.execOut("blockreader", "app", "sh", "-c", "dd if=/dev/xvdb bs=512 count=1 2>/dev/null | tr -d '\\000'")); got != "from-the-pod" {
		t.Errorf("the read-only pod reads %q", got)
	}
	if out, err := n.execErr("blockreader", "app", "sh", "-c", "echo overwritten | dd of=/dev/xvdb bs=512 conv=sync"); err == nil {
		t.Errorf("a read-only claim's device took a write")
	} else if !strings.Contains(out+err.Error(), "Operation not permitted") {
		t.Errorf("a write to a read-only claim's device failed with %v %q, want EPERM", err, out)
	}
}

// A container that restarts finds its volumes again: the image volume and
// a subPath mount are mounted for the new instance, and the emptyDir
// kept what the first instance wrote.
func TestVolumeMountsAcrossRestart(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: again}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    # The first instance leaves a note and exits; the second stays.
    command: [sh, -c, 'if [ ! -e /data/note ]; then echo first > /data/note; exit 1; fi; exec sleep 3600']
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: data, mountPath: /sub, subPath: sub}
    - {name: web, mountPath: /web}
  volumes:
  - {name: data, emptyDir: {}}
  - name: web
    image: {reference: "` + nginx + `"}
`)
	n.waitPod("again", 2*time.Minute, func(p *corev1.Pod) error {
		if cs := p.Status.ContainerStatuses; len(cs) != 1 || cs[0].RestartCount < 1 || cs[0].State.Running == nil {
			return fmt.Errorf("want a restarted, running container: %s", containerStates(p))
		}
		return nil
	})
	if got := strings.TrimSpace(n.execOut("again", "app", "cat", "/data/note")); got != "first" {
		t.Errorf("the emptyDir holds %q after the restart", got)
	}
	n.execOut("again", "app", "test", "-x", "/web/usr/sbin/nginx")
	n.execOut("again", "app", "touch", "/sub/ok")
}

// An image volume sub path the image does not have keeps the container
// from being created, with the CRI's ImageVolumeMountFailed reason first in
// its message, as the kubelet expects (it counts such failures by it).
func TestVolumeImageMissingSubPath(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: nosub}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
    volumeMounts: [{name: web, mountPath: /web, subPath: no/such/dir}]
  volumes:
  - name: web
    image: {reference: "` + nginx + `"}
`)
	p := n.waitPod("nosub", 2*time.Minute, containerWaitingReason("app", "CreateContainerError"))
	msg := containerStatus(t, p, "app").State.Waiting.Message
	if !strings.HasPrefix(msg, "ImageVolumeMountFailed") || !strings.Contains(msg, "no/such/dir") {
		t.Errorf("a missing image sub path is reported as %q, want ImageVolumeMountFailed first and the sub path named", msg)
	}
}
