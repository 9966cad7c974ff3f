// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Checkpoint and restore check their requests, then answer for this node:
// where `criu check` fails (Debian's CRIU 3.17 on a 6.x kernel, say) they
// are FailedPrecondition carrying CRIU's reason, and no archive is written.
// Where CRIU works, the capture is not built yet: Unimplemented.
func TestCheckpointAnswersForThisNode(t *testing.T) {
	e := newPodEnv(t, "")
	ctr := e.run(t, "sleeper", "sleep", "1000")
	e.waitState(t, ctr, runtimeapi.ContainerState_CONTAINER_RUNNING)
	done := e.run(t, "done", "true")
	e.waitState(t, done, runtimeapi.ContainerState_CONTAINER_EXITED)

	want, mention := codes.Unimplemented, "not built"
	if out, err := exec.Command("criu", "check").CombinedOutput(); err != nil {
		want, mention = codes.FailedPrecondition, "criu"
		t.Logf("criu check fails here, so checkpoints cannot work: %v: %s", err, out)
	}
	ctx := func() context.Context { return ctxT(t, time.Minute) }
	archive := filepath.Join(t.TempDir(), "checkpoint.tar")

	_, err := e.d.rt.CheckpointContainer(ctx(), &runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: archive})
	wantCode(t, err, want, mention)
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Errorf("an archive was written: %v", err)
	}
	for _, c := range []struct {
		req  *runtimeapi.CheckpointContainerRequest
		code codes.Code
	}{
		{&runtimeapi.CheckpointContainerRequest{Location: archive}, codes.InvalidArgument},
		{&runtimeapi.CheckpointContainerRequest{ContainerId: ctr, Location: "relative.tar"}, codes.InvalidArgument},
		{&runtimeapi.CheckpointContainerRequest{ContainerId: "no-such-container", Location: archive}, codes.NotFound},
		{&runtimeapi.CheckpointContainerRequest{ContainerId: done, Location: archive}, codes.FailedPrecondition},
	} {
		if _, err := e.d.rt.CheckpointContainer(ctx(), c.req); status.Code(err) != c.code {
			t.Errorf("CheckpointContainer %+v: %v, want %v", c.req, err, c.code)
		}
	}

	out := t.TempDir()
	_, err = e.d.rt.CheckpointPod(ctx(), &runtimeapi.CheckpointPodRequest{PodSandboxId: e.pod, OutputPath: out, ContainerIds: []string{ctr}})
	wantCode(t, err, want, mention)
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("CheckpointPod wrote %v", ents)
	}
	_, err = e.d.rt.CheckpointPod(ctx(), &runtimeapi.CheckpointPodRequest{PodSandboxId: e.pod, OutputPath: out, ContainerIds: []string{ctr, ctr}})
	wantCode(t, err, codes.InvalidArgument, "twice")
	_, err = e.d.rt.CheckpointPod(ctx(), &runtimeapi.CheckpointPodRequest{PodSandboxId: e.pod, OutputPath: out})
	wantCode(t, err, codes.InvalidArgument, "container_ids")

	_, err = e.d.rt.RestorePod(ctx(), &runtimeapi.RestorePodRequest{CheckpointPath: out, Config: e.podCfg})
	wantCode(t, err, want, mention)
	_, err = e.d.rt.RestorePod(ctx(), &runtimeapi.RestorePodRequest{CheckpointPath: filepath.Join(out, "missing"), Config: e.podCfg})
	wantCode(t, err, codes.InvalidArgument, "checkpoint_path")
}
