// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// hostDir makes a directory of the test's own on the node, for a pod to
// mount with hostPath: what a container writes there outlives the pod.
func hostDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Pods traverse to it whatever their user.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// readHostFile reads a file a pod wrote to a hostDir.
func readHostFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("the pod's file on the node: %v", err)
	}
	return string(b)
}

// deletePod deletes a pod and waits until the API server no longer has it,
// which is when the kubelet has reported every container stopped.
func (n *ns) deletePod(name string) {
	n.t.Helper()
	n.kubectl("", "delete", "pod", name, "--wait=true", "--timeout=120s")
	eventually(n.t, time.Minute, "pod "+name+" gone", func() error {
		out, err := n.kubectlErr("", "get", "pod", name, "--ignore-not-found", "-o", "name")
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "" {
			return fmt.Errorf("still there: %s", out)
		}
		return nil
	})
}

// terminated is a waitPod condition: the named container's current state
// is terminated.
func terminated(container string) func(*corev1.Pod) error {
	return func(p *corev1.Pod) error {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, cs := range list {
				if cs.Name == container && cs.State.Terminated != nil {
					return nil
				}
			}
		}
		return fmt.Errorf("container %s not terminated: phase %s, %s", container, p.Status.Phase, containerStates(p))
	}
}
