// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A hostUsers: false pod: the kubelet gives it a user namespace whose root
// is an unprivileged host user, and its container still runs as root in
// it and writes to its emptyDir, where the file is root's on the host's
// disk (podshim idmaps the volume).
func TestUserNamespacedPodWritesItsEmptyDir(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: userns}
spec:
  hostUsers: false
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: [sh, -c, 'echo hi > /data/f && sleep 3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    emptyDir: {}
`, busybox))
	p := n.waitPod("userns", 2*time.Minute, podReady)

	m := strings.Fields(n.execOut("userns", "main", "cat", "/proc/self/uid_map"))
	if len(m) != 3 || m[0] != "0" {
		t.Fatalf("uid_map in the pod is %q, want one range for the pod's root", m)
	}
	if host, err := strconv.Atoi(m[1]); err != nil || host < 65536 {
		t.Errorf("the pod's root is host uid %q, want an unprivileged one (at least 65536)", m[1])
	}
	if got := strings.TrimSpace(n.execOut("userns", "main", "id", "-u")); got != "0" {
		t.Errorf("the container runs as uid %q in its namespace, want 0", got)
	}
	if got := strings.TrimSpace(n.execOut("userns", "main", "stat", "-c", "%u %s", "/data/f")); got != "0 3" {
		t.Errorf("/data/f in the pod: %q, want the pod root's 3-byte file", got)
	}
	onDisk := filepath.Join(node.Dir(), "kubelet", "pods", string(p.UID), "volumes", "kubernetes.io~empty-dir", "data", "f")
	var st unix.Stat_t
	if err := unix.Stat(onDisk, &st); err != nil {
		t.Fatalf("the emptyDir's file on the node: %v", err)
	}
	if st.Uid != 0 {
		t.Errorf("%s is uid %d on disk, want 0: the emptyDir is not idmapped", onDisk, st.Uid)
	}
}
