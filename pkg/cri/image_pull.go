// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
	"github.com/podshim/podshim/storage"
)

// PullImage pulls an image and answers with its ID, which the kubelet then
// passes back in CreateContainer.
func (s *Service) PullImage(ctx context.Context, req *runtimeapi.PullImageRequest) (*runtimeapi.PullImageResponse, error) {
	ref := req.GetImage().GetImage()
	if ref == "" {
		return nil, invalid("PullImage: image reference is empty")
	}
	var auth *storage.Auth
	if a := req.GetAuth(); a != nil {
		auth = &storage.Auth{
			Username:      a.GetUsername(),
			Password:      a.GetPassword(),
			Auth:          a.GetAuth(),
			ServerAddress: a.GetServerAddress(),
			IdentityToken: a.GetIdentityToken(),
			RegistryToken: a.GetRegistryToken(),
		}
	}
	start := time.Now()
	img, err := s.images.Pull(ctx, ref, auth)
	metrics.ImagePull(start, err)
	if err != nil {
		klog.Errorf("PullImage %q: %v", ref, err)
		return nil, toStatus(err)
	}
	klog.V(1).Infof("PullImage %q: %s", ref, img.ID)
	return &runtimeapi.PullImageResponse{ImageRef: img.ID}, nil
}
