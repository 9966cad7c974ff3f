// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The node registers, is Ready, and names podshim as its runtime.
func TestNodeReadyWithPodshim(t *testing.T) {
	var n corev1.Node
	if err := json.Unmarshal([]byte(kubectl(t, "", "get", "node", node.NodeName(), "-o", "json")), &n); err != nil {
		t.Fatal(err)
	}
	if v := n.Status.NodeInfo.ContainerRuntimeVersion; !strings.HasPrefix(v, "podshim://") {
		t.Errorf("containerRuntimeVersion %q, want podshim://…", v)
	}
	ready := false
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		t.Errorf("node not Ready: %+v", n.Status.Conditions)
	}
	if n.Status.NodeInfo.KubeletVersion == "" || !strings.HasPrefix(n.Status.NodeInfo.KubeletVersion, "v1.") {
		t.Errorf("kubelet version %q", n.Status.NodeInfo.KubeletVersion)
	}
}

// A Deployment with exec, HTTP and TCP readiness probes rolls out: every
// replica Ready, as `kubectl rollout status` reports to a user.
func TestDeploymentRollsOutBehindReadinessProbes(t *testing.T) {
	n := newNS(t)
	n.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: ` + nginx + `
        ports: [{containerPort: 80}]
        readinessProbe:
          httpGet: {path: /, port: 80}
          periodSeconds: 1
        livenessProbe:
          tcpSocket: {port: 80}
          periodSeconds: 2
      - name: sidecar
        image: ` + busybox + `
        command: [sh, -c, "touch /tmp/ready; exec sleep 3600"]
        readinessProbe:
          exec: {command: [cat, /tmp/ready]}
          periodSeconds: 1
`)
	n.kubectl("", "rollout", "status", "deployment/web", "--timeout=180s")
	var d appsv1.Deployment
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "deployment", "web", "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.Status.ReadyReplicas != 2 || d.Status.AvailableReplicas != 2 {
		t.Fatalf("ready %d available %d, want 2", d.Status.ReadyReplicas, d.Status.AvailableReplicas)
	}
	var pods corev1.PodList
	if err := json.Unmarshal([]byte(n.kubectl("", "get", "pods", "-l", "app=web", "-o", "json")), &pods); err != nil {
		t.Fatal(err)
	}
	_, subnet, err := net.ParseCIDR(node.Subnet())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if ip := net.ParseIP(p.Status.PodIP); ip == nil || !subnet.Contains(ip) {
			t.Errorf("pod %s IP %q, want one from the node's pod subnet", p.Name, p.Status.PodIP)
		}
		for _, cs := range p.Status.ContainerStatuses {
			// The image as the pod spec names it, not the image ID the
			// kubelet resolved it to.
			if want := map[string]string{"nginx": nginx, "sidecar": busybox}[cs.Name]; cs.Image != want {
				t.Errorf("pod %s container %s: image %q, want %q", p.Name, cs.Name, cs.Image, want)
			}
			if !cs.Ready || cs.RestartCount != 0 || !strings.HasPrefix(cs.ContainerID, "podshim://") {
				t.Errorf("pod %s container %s: ready %v restarts %d id %q", p.Name, cs.Name, cs.Ready, cs.RestartCount, cs.ContainerID)
			}
		}
	}
}

// nodeReady reports whether the node's Ready condition is True.
func nodeReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := node.Kubectl(ctx, "", "get", "node", node.NodeName(), "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) != "True" {
		return fmt.Errorf("node Ready=%q", out)
	}
	return nil
}
