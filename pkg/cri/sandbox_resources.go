// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// UpdatePodSandboxResources records the pod-level resources the kubelet has
// applied to the pod's cgroup (pod-level resources and their in-place
// resize); verbose PodSandboxStatus shows them. An unknown pod is NotFound.
func (s *Service) UpdatePodSandboxResources(ctx context.Context, req *runtimeapi.UpdatePodSandboxResourcesRequest) (*runtimeapi.UpdatePodSandboxResourcesResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, invalid("UpdatePodSandboxResources: pod sandbox id is empty")
	}
	r, err := s.sandboxes.UpdateResources(ctx, req.GetPodSandboxId(), req.GetOverhead(), req.GetResources())
	if err != nil {
		return nil, toStatus(err)
	}
	klog.V(2).Infof("pod %s: pod-level resources now %v, overhead %v", r.ID, r.Config.GetLinux().GetResources(), r.Config.GetLinux().GetOverhead())
	return &runtimeapi.UpdatePodSandboxResourcesResponse{}, nil
}
