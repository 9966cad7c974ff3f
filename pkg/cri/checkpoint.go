// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/criu"
)

// Checkpoint and restore need CRIU. Each RPC checks its request as the CRI
// describes it (bad input is InvalidArgument, a container that is not
// running FailedPrecondition, as it would be with a working CRIU), then
// asks `criu check`: where CRIU cannot work on this node the answer is
// FailedPrecondition with CRIU's own reason, never an archive. Where it can,
// the capture itself is not built yet: Unimplemented.

// errCheckpointNotBuilt answers a valid request on a node where CRIU works.
var errCheckpointNotBuilt = status.Error(codes.Unimplemented, "checkpoint and restore through CRIU are not built into podshim yet")

// criuGate turns the node's CRIU check into the RPC's answer.
func (s *Service) criuGate(ctx context.Context, rpc string) error {
	if err := s.criu.Check(ctx); err != nil {
		if errors.Is(err, criu.ErrUnavailable) {
			return status.Errorf(codes.FailedPrecondition, "%s: %v", rpc, err)
		}
		return status.Errorf(codes.Internal, "%s: %v", rpc, err)
	}
	return errCheckpointNotBuilt
}

// CheckpointContainer would write a running container's checkpoint archive
// to location.
func (s *Service) CheckpointContainer(ctx context.Context, req *runtimeapi.CheckpointContainerRequest) (*runtimeapi.CheckpointContainerResponse, error) {
	if req.GetContainerId() == "" {
		return nil, invalid("CheckpointContainer: container id is empty")
	}
	if !filepath.IsAbs(req.GetLocation()) {
		return nil, invalid("CheckpointContainer: location %q is not an absolute path for the archive", req.GetLocation())
	}
	if _, err := s.containers.Running(ctx, req.GetContainerId()); err != nil {
		return nil, toStatus(fmt.Errorf("CheckpointContainer: %w", err))
	}
	return nil, s.criuGate(ctx, "CheckpointContainer")
}

// CheckpointPod would capture the listed running containers of a pod into
// output_path.
func (s *Service) CheckpointPod(ctx context.Context, req *runtimeapi.CheckpointPodRequest) (*runtimeapi.CheckpointPodResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, invalid("CheckpointPod: pod sandbox id is empty")
	}
	pod, err := s.sandboxes.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(fmt.Errorf("CheckpointPod: %w", err))
	}
	if err := emptyDir(req.GetOutputPath()); err != nil {
		return nil, invalid("CheckpointPod: output_path: %v", err)
	}
	if len(req.GetContainerIds()) == 0 {
		return nil, invalid("CheckpointPod: container_ids is empty")
	}
	seen := map[string]bool{}
	for _, id := range req.GetContainerIds() {
		r, err := s.containers.Running(ctx, id)
		if err != nil {
			return nil, toStatus(fmt.Errorf("CheckpointPod: %w", err))
		}
		if r.SandboxID != pod.ID {
			return nil, invalid("CheckpointPod: container %s is in pod %s, not in %s", r.ID, r.SandboxID, pod.ID)
		}
		if seen[r.ID] {
			return nil, invalid("CheckpointPod: container %s is listed twice", r.ID)
		}
		seen[r.ID] = true
	}
	return nil, s.criuGate(ctx, "CheckpointPod")
}

// RestorePod would create a pod and its containers from a checkpoint.
func (s *Service) RestorePod(ctx context.Context, req *runtimeapi.RestorePodRequest) (*runtimeapi.RestorePodResponse, error) {
	if req.GetConfig() == nil {
		return nil, invalid("RestorePod: config is required")
	}
	if fi, err := os.Stat(req.GetCheckpointPath()); !filepath.IsAbs(req.GetCheckpointPath()) || err != nil || !fi.IsDir() {
		return nil, invalid("RestorePod: checkpoint_path %q is not an absolute path to a checkpoint directory", req.GetCheckpointPath())
	}
	return nil, s.criuGate(ctx, "RestorePod")
}

// emptyDir checks that p is an absolute path to an existing, empty
// directory, as CheckpointPod's output_path must be.
func emptyDir(p string) error {
	if !filepath.IsAbs(p) {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	if len(ents) != 0 {
		return fmt.Errorf("%s is not empty", p)
	}
	return nil
}
