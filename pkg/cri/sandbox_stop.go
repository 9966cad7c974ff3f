// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopPodSandbox stops the pod's processes and reclaims its network. As
// api.proto asks, it is idempotent and succeeds for an unknown sandbox.
func (s *Service) StopPodSandbox(ctx context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, invalid("StopPodSandbox: pod sandbox id is empty")
	}
	// Stopping a pod stops its containers first: SIGKILL at once, as the
	// kubelet has already given them their grace period.
	// The pod's lock keeps container creations out until the pod is done.
	if pod, err := s.sandboxes.Get(req.GetPodSandboxId()); err == nil {
		defer s.sandboxes.LockForTeardown(pod.ID)()
		for _, c := range s.containers.List() {
			if c.SandboxID == pod.ID {
				if err := s.containers.Stop(ctx, c.ID, 0); err != nil {
					return nil, toStatus(err)
				}
			}
		}
	}
	if err := s.sandboxes.Stop(ctx, req.GetPodSandboxId()); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.StopPodSandboxResponse{}, nil
}
