// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// RunPodSandbox creates and starts a pod sandbox: its network namespace and
// IP, its files, and its pause process. A failure leaves nothing behind.
func (s *Service) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	if req.GetConfig() == nil {
		return nil, invalid("RunPodSandbox: config is missing")
	}
	r, err := s.sandboxes.Run(ctx, req.GetConfig(), req.GetRuntimeHandler())
	if err != nil {
		klog.Errorf("RunPodSandbox %s/%s: %v", req.GetConfig().GetMetadata().GetNamespace(), req.GetConfig().GetMetadata().GetName(), err)
		return nil, toStatus(err)
	}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: r.ID}, nil
}
