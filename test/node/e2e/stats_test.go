// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// summary is the part of the kubelet's /stats/summary these tests read
// (k8s.io/kubelet/pkg/apis/stats/v1alpha1).
type summary struct {
	Node struct {
		NodeName string `json:"nodeName"`
		CPU      *struct {
			UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds"`
		} `json:"cpu"`
		Runtime *struct {
			ImageFs *fsStats `json:"imageFs"`
		} `json:"runtime"`
	} `json:"node"`
	Pods []struct {
		PodRef struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"podRef"`
		CPU              *cpuStats `json:"cpu"`
		Memory           *memStats `json:"memory"`
		EphemeralStorage *fsStats  `json:"ephemeral-storage"`
		Containers       []struct {
			Name   string    `json:"name"`
			CPU    *cpuStats `json:"cpu"`
			Memory *memStats `json:"memory"`
			Rootfs *fsStats  `json:"rootfs"`
			Logs   *fsStats  `json:"logs"`
		} `json:"containers"`
	} `json:"pods"`
}

type cpuStats struct {
	UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds"`
}

type memStats struct {
	WorkingSetBytes *uint64 `json:"workingSetBytes"`
}

type fsStats struct {
	UsedBytes *uint64 `json:"usedBytes"`
}

func positive(v *uint64) bool { return v != nil && *v > 0 }

// The kubelet's /stats/summary, as metrics-server reads it, has non-zero CPU, memory and filesystem figures for a running pod and
// each of its containers.
func TestStatsSummaryReportsEveryPod(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: busy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: worker
    image: ` + busybox + `
    command: [sh, -c, "dd if=/dev/zero of=/data bs=64k count=16; while true; do echo working; i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done; sleep 1; done"]
  - name: idle
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("busy", 2*time.Minute, podPhase(corev1.PodRunning))
	eventually(t, 2*time.Minute, "stats of pod busy", func() error {
		var s summary
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		raw, err := node.KubeletGet(ctx, "/stats/summary")
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if s.Node.Runtime == nil || s.Node.Runtime.ImageFs == nil || !positive(s.Node.Runtime.ImageFs.UsedBytes) {
			return fmt.Errorf("no image filesystem usage for the node")
		}
		for _, p := range s.Pods {
			if p.PodRef.Namespace != n.name || p.PodRef.Name != "busy" {
				continue
			}
			if p.CPU == nil || !positive(p.CPU.UsageCoreNanoSeconds) {
				return fmt.Errorf("pod cpu %+v", p.CPU)
			}
			if p.Memory == nil || !positive(p.Memory.WorkingSetBytes) {
				return fmt.Errorf("pod memory %+v", p.Memory)
			}
			if p.EphemeralStorage == nil || !positive(p.EphemeralStorage.UsedBytes) {
				return fmt.Errorf("pod ephemeral storage %+v", p.EphemeralStorage)
			}
			if len(p.Containers) != 2 {
				return fmt.Errorf("%d containers in the summary, want 2", len(p.Containers))
			}
			for _, c := range p.Containers {
				if c.CPU == nil || !positive(c.CPU.UsageCoreNanoSeconds) || c.Memory == nil || !positive(c.Memory.WorkingSetBytes) {
					return fmt.Errorf("container %s: cpu %+v memory %+v", c.Name, c.CPU, c.Memory)
				}
				if c.Name == "worker" && (c.Rootfs == nil || !positive(c.Rootfs.UsedBytes) || c.Logs == nil || !positive(c.Logs.UsedBytes)) {
					return fmt.Errorf("container %s: rootfs %+v logs %+v", c.Name, c.Rootfs, c.Logs)
				}
			}
			return nil
		}
		return fmt.Errorf("pod busy not in the summary")
	})
}
