// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// runtimeClass creates a cluster-wide RuntimeClass name → handler for the
// test, removed at its end.
func runtimeClass(t *testing.T, name, handler string) {
	t.Helper()
	kubectl(t, fmt.Sprintf(`apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: %s
handler: %s
`, name, handler), "apply", "-f", "-")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = node.Kubectl(ctx, "", "delete", "runtimeclass", name, "--ignore-not-found")
	})
}

// runtimeIDs lists the containers a runtime binary keeps in root.
func runtimeIDs(t *testing.T, binary, root string) []string {
	t.Helper()
	out, err := exec.Command(binary, "--root", root, "list", "--format", "json").Output()
	if err != nil {
		t.Fatalf("%s --root %s list: %v", binary, root, err)
	}
	var cs []struct {
		ID string `json:"id"`
	}
	if s := strings.TrimSpace(string(out)); s != "" && s != "null" {
		if err := json.Unmarshal(out, &cs); err != nil {
			t.Fatalf("%s list: %v: %s", binary, err, out)
		}
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func holds(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// podIDs returns the sandbox ID podshim gave a pod and its container's ID.
func (n *ns) podIDs(p *corev1.Pod, container string) (sandbox, ctr string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := node.Crictl(ctx, "pods", "-q", "--namespace", n.name, "--name", p.Name, "--state", "ready")
	if err != nil {
		n.t.Fatal(err)
	}
	sandbox = strings.TrimSpace(out)
	_, ctr, _ = strings.Cut(containerStatus(n.t, p, container).ContainerID, "://")
	if sandbox == "" || strings.Contains(sandbox, "\n") || ctr == "" {
		n.t.Fatalf("pod %s: sandbox %q, container %q", p.Name, sandbox, ctr)
	}
	return sandbox, ctr
}

// parentCmdline is the command line of a process's parent.
func parentCmdline(t *testing.T, pid int) string {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// The comm field may hold spaces: the fields after it follow ") ".
	_, rest, _ := strings.Cut(string(stat), ") ")
	var state string
	var ppid int
	if _, err := fmt.Sscan(rest, &state, &ppid); err != nil {
		t.Fatalf("parse /proc/%d/stat: %v", pid, err)
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", ppid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
}

// A RuntimeClass whose handler is crun runs its pod under crun: the pause
// and the container are in crun's root and not in runc's, the container's
// parent is a monitor driving crun, and the pod works as any other (ready,
// exec, logs, deletion).
func TestRuntimeClassSelectsCrun(t *testing.T) {
	if _, err := os.Stat("/usr/bin/crun"); err != nil {
		t.Skipf("crun is not installed (make deps installs Debian's): %v", err)
	}
	n := newNS(t)
	runtimeClass(t, "crun", "crun")
	n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: under-crun
spec:
  runtimeClassName: crun
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: ["sh", "-c", "echo started under a runtime class; exec sleep 3600"]
`)
	p := n.waitPod("under-crun", 2*time.Minute, podReady)
	if out := strings.TrimSpace(n.execOut("under-crun", "main", "echo", "exec ok")); out != "exec ok" {
		t.Errorf("exec printed %q", out)
	}
	if out, err := n.logs("under-crun", "main", false); err != nil || !strings.Contains(out, "started under a runtime class") {
		t.Errorf("logs: %q, %v", out, err)
	}

	sandbox, ctr := n.podIDs(p, "main")
	state := filepath.Join(node.Dir(), "podshim", "state")
	crunIDs := runtimeIDs(t, "/usr/bin/crun", filepath.Join(state, "runtimes", "crun"))
	if !holds(crunIDs, sandbox) || !holds(crunIDs, ctr) {
		t.Errorf("crun's root holds %v, want the pod's pause %s and container %s", crunIDs, sandbox, ctr)
	}
	runcIDs := runtimeIDs(t, filepath.Join(filepath.Dir(os.Getenv("PODSHIM_BIN")), "runc"), filepath.Join(state, "runc"))
	if holds(runcIDs, sandbox) || holds(runcIDs, ctr) {
		t.Errorf("runc's root holds the pod (%v)", runcIDs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := node.Crictl(ctx, "inspect", ctr)
	if err != nil {
		t.Fatal(err)
	}
	var insp struct {
		Info struct {
			Pid int `json:"pid"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &insp); err != nil || insp.Info.Pid == 0 {
		t.Fatalf("crictl inspect %s: no pid (%v): %s", ctr, err, out)
	}
	if parent := parentCmdline(t, insp.Info.Pid); !strings.Contains(parent, "monitor") || !strings.Contains(parent, "crun") {
		t.Errorf("the container's parent is %q, want a pod monitor driving crun", parent)
	}

	n.deletePod("under-crun")
	eventually(t, time.Minute, "crun's root to forget the pod", func() error {
		ids := runtimeIDs(t, "/usr/bin/crun", filepath.Join(state, "runtimes", "crun"))
		if holds(ids, sandbox) || holds(ids, ctr) {
			return fmt.Errorf("crun's root still holds %v", ids)
		}
		return nil
	})
}

// The handler the upstream RuntimeClass specs ask for, test-handler, is
// configured on the node (runc again, in a root of its own).
func TestRuntimeClassTestHandler(t *testing.T) {
	n := newNS(t)
	runtimeClass(t, n.name+"-rc", "test-handler")
	n.apply(`apiVersion: v1
kind: Pod
metadata:
  name: under-test-handler
spec:
  runtimeClassName: ` + n.name + `-rc
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: ["sleep", "3600"]
`)
	p := n.waitPod("under-test-handler", 2*time.Minute, podReady)
	sandbox, ctr := n.podIDs(p, "main")
	state := filepath.Join(node.Dir(), "podshim", "state")
	ids := runtimeIDs(t, filepath.Join(filepath.Dir(os.Getenv("PODSHIM_BIN")), "runc"), filepath.Join(state, "runtimes", "test-handler"))
	if !holds(ids, sandbox) || !holds(ids, ctr) {
		t.Errorf("test-handler's root holds %v, want %s and %s", ids, sandbox, ctr)
	}
}
