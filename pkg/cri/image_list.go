// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"errors"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/storage"
)

// streamBatch is how many images one StreamImages message carries: small
// enough to stay far below gRPC's message limit with long tag lists.
const streamBatch = 256

// ListImages lists images, optionally only the one a filter names.
func (s *Service) ListImages(ctx context.Context, req *runtimeapi.ListImagesRequest) (*runtimeapi.ListImagesResponse, error) {
	imgs, err := s.listImages(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtimeapi.ListImagesResponse{Images: imgs}, nil
}

// StreamImages is ListImages in batches, for nodes with many images.
func (s *Service) StreamImages(req *runtimeapi.StreamImagesRequest, stream runtimeapi.ImageService_StreamImagesServer) error {
	imgs, err := s.listImages(req.GetFilter())
	if err != nil {
		return err
	}
	for len(imgs) > 0 {
		n := min(streamBatch, len(imgs))
		if err := stream.Send(&runtimeapi.StreamImagesResponse{Images: imgs[:n]}); err != nil {
			return err
		}
		imgs = imgs[n:]
	}
	return nil
}

// listImages applies the CRI filter: a filter image names one image by ID,
// tag or digest, and an unknown one simply matches nothing.
func (s *Service) listImages(filter *runtimeapi.ImageFilter) ([]*runtimeapi.Image, error) {
	if ref := filter.GetImage().GetImage(); ref != "" {
		img, err := s.images.Get(ref)
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrInvalidReference) {
			return nil, nil
		}
		if err != nil {
			return nil, toStatus(err)
		}
		return []*runtimeapi.Image{toCRIImage(img)}, nil
	}
	all, err := s.images.List()
	if err != nil {
		return nil, toStatus(err)
	}
	out := make([]*runtimeapi.Image, 0, len(all))
	for _, img := range all {
		out = append(out, toCRIImage(img))
	}
	return out, nil
}
