// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The monitor writes logs as root, so a log path may neither climb out of
// the pod's log directory nor pass through a symlink planted in it; such a
// CreateContainer is refused and leaves nothing behind.
func TestLogPathThroughASymlinkIsRefused(t *testing.T) {
	e := newPodEnv(t, "")
	host := t.TempDir()
	if err := os.Symlink(host, filepath.Join(e.logDir, "planted")); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"planted/0.log", "../outside.log", "/etc/podshim-e2e.log"} {
		cfg := e.containerConfig("logs", "true")
		cfg.LogPath = rel
		_, err := e.d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{
			PodSandboxId: e.pod, Config: cfg, SandboxConfig: e.podCfg})
		wantCode(t, err, codes.InvalidArgument, rel)
	}
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("files appeared behind the planted symlink: %v", ents)
	}
	resp, err := e.d.rt.ListContainers(ctxT(t, 10*time.Second), &runtimeapi.ListContainersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Containers) != 0 {
		t.Errorf("refused creates left containers: %v", resp.Containers)
	}
}

// The log directory is the pod's, as RunPodSandbox recorded it: the copy of
// the pod's config in a CreateContainer request cannot move the log.
func TestLogDirectoryComesFromThePodRecord(t *testing.T) {
	e := newPodEnv(t, "")
	other := proto.Clone(e.podCfg).(*runtimeapi.PodSandboxConfig)
	other.LogDirectory = t.TempDir()
	cfg := e.containerConfig("echo", "echo", "in the pod's log dir")
	resp, err := e.d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{
		PodSandboxId: e.pod, Config: cfg, SandboxConfig: other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: resp.ContainerId}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, resp.ContainerId, runtimeapi.ContainerState_CONTAINER_EXITED)
	want := filepath.Join(e.logDir, "echo.log")
	if st := e.status(t, resp.ContainerId); st.LogPath != want {
		t.Errorf("log path %q, want %q", st.LogPath, want)
	}
	waitForLog(t, want, "in the pod's log dir")
	if ents, _ := os.ReadDir(other.LogDirectory); len(ents) != 0 {
		t.Errorf("the request's log directory got %v", ents)
	}
}
