// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// RemoveImage removes an image named by ID, tag or digest, with all of its
// tags, as containerd does. It is idempotent: removing an image that is not
// there succeeds, as api.proto requires.
func (s *Service) RemoveImage(ctx context.Context, req *runtimeapi.RemoveImageRequest) (*runtimeapi.RemoveImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, invalid("RemoveImage: image reference is empty")
	}
	if err := s.images.Remove(ref); err != nil {
		return nil, toStatus(err)
	}
	klog.V(1).Infof("RemoveImage %q", ref)
	return &runtimeapi.RemoveImageResponse{}, nil
}
