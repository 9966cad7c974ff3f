// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// A pod's monitor killed -9 while the daemon holds a client of it: the
// kubelet's stop and remove of the container and the pod must still
// succeed (runc deletes what no monitor answers for).
func TestContainerAndPodAreRemovableAfterTheirMonitorIsKilled(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "sleeper", "sleep", "3600")
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)

	dir := filepath.Join(e.d.dir, "state", "sandboxes", e.pod, "monitor")
	killed := 0
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		data, _ := os.ReadFile("/proc/" + ent.Name() + "/cmdline")
		if strings.Contains(string(data), "monitor\x00--dir\x00"+dir+"\x00") && syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("killed %d monitors of pod %s", killed, e.pod)
	}
	time.Sleep(200 * time.Millisecond)

	ctx := ctxT(t, time.Minute)
	if _, err := e.d.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if _, err := e.d.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := e.d.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if _, err := e.d.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
}
