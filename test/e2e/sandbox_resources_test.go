// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// UpdatePodSandboxResources (pod-level resources, in-place resize) is
// recorded with the pod: verbose status shows what the kubelet last said,
// across a daemon restart; unknown and empty IDs get clear errors.
func TestUpdatePodSandboxResourcesIsRecorded(t *testing.T) {
	d := startDaemon(t, "")
	id := runPod(t, d, podConfig("resized"))
	_, err := d.rt.UpdatePodSandboxResources(ctxT(t, 10*time.Second), &runtimeapi.UpdatePodSandboxResourcesRequest{
		PodSandboxId: id,
		Resources:    &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 256 << 20, CpuQuota: 50000, CpuPeriod: 100000},
		Overhead:     &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 16 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		resp, err := d.rt.PodSandboxStatus(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
		if err != nil {
			t.Fatal(err)
		}
		var info struct {
			Resources struct {
				MemoryLimitInBytes int64 `json:"memory_limit_in_bytes"`
				CpuQuota           int64 `json:"cpu_quota"`
			} `json:"resources"`
			Overhead struct {
				MemoryLimitInBytes int64 `json:"memory_limit_in_bytes"`
			} `json:"overhead"`
		}
		if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil {
			t.Fatal(err)
		}
		if info.Resources.MemoryLimitInBytes != 256<<20 || info.Resources.CpuQuota != 50000 || info.Overhead.MemoryLimitInBytes != 16<<20 {
			t.Fatalf("recorded pod resources: %s", resp.Info["info"])
		}
	}
	check()
	d.restart()
	check()

	_, err = d.rt.UpdatePodSandboxResources(ctxT(t, 10*time.Second), &runtimeapi.UpdatePodSandboxResourcesRequest{PodSandboxId: "no-such-pod"})
	wantCode(t, err, codes.NotFound, "no-such-pod")
	_, err = d.rt.UpdatePodSandboxResources(ctxT(t, 10*time.Second), &runtimeapi.UpdatePodSandboxResourcesRequest{})
	wantCode(t, err, codes.InvalidArgument, "empty")
}
