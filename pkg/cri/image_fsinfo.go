// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/storage"
)

// ImageFsInfo reports the bytes and inodes really used, measured now, by
// the image store and, separately, by containers' writable layers, so the
// kubelet's image and container garbage collection see the truth.
func (s *Service) ImageFsInfo(ctx context.Context, req *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	images, err := s.images.Usage()
	if err != nil {
		return nil, toStatus(err)
	}
	containers, err := s.images.ContainersUsage()
	if err != nil {
		return nil, toStatus(err)
	}
	return &runtimeapi.ImageFsInfoResponse{
		ImageFilesystems:     []*runtimeapi.FilesystemUsage{fsUsage(images)},
		ContainerFilesystems: []*runtimeapi.FilesystemUsage{fsUsage(containers)},
	}, nil
}

func fsUsage(u storage.Usage) *runtimeapi.FilesystemUsage {
	return &runtimeapi.FilesystemUsage{
		Timestamp:  time.Now().UnixNano(),
		FsId:       &runtimeapi.FilesystemIdentifier{Mountpoint: u.Path},
		UsedBytes:  &runtimeapi.UInt64Value{Value: u.UsedBytes},
		InodesUsed: &runtimeapi.UInt64Value{Value: u.InodesUsed},
	}
}
