// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemovePodSandbox removes the pod and everything it owned. Removing a pod
// that is already gone succeeds, as api.proto requires.
func (s *Service) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, invalid("RemovePodSandbox: pod sandbox id is empty")
	}
	// A pod's containers go first: they stand in its namespaces.
	// The pod's lock keeps container creations out until the pod is done.
	if pod, err := s.sandboxes.Get(req.GetPodSandboxId()); err == nil {
		unlock := s.sandboxes.LockForTeardown(pod.ID)
		defer unlock()
		for _, c := range s.containers.List() {
			if c.SandboxID == pod.ID {
				if err := s.containers.Remove(ctx, c.ID); err != nil {
					return nil, toStatus(err)
				}
			}
		}
	}
	if err := s.sandboxes.Remove(ctx, req.GetPodSandboxId()); err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.RemovePodSandboxResponse{}, nil
}
