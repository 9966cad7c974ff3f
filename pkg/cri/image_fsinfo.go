// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/storage"
)

// containersUsageMaxAge bounds how old the writable layers' usage that
// ImageFsInfo reports may be (containerd's snapshot usage refresh period).
const containersUsageMaxAge = 10 * time.Second

// ImageFsInfo reports the bytes and inodes really used by the image store
// (measured again whenever its content changed) and, separately, by
// containers' writable layers (at most containersUsageMaxAge old), so the
// kubelet's image and container garbage collection see the truth without
// a walk of every container's files at each of its calls.
func (s *Service) ImageFsInfo(ctx context.Context, req *runtimeapi.ImageFsInfoRequest) (*runtimeapi.ImageFsInfoResponse, error) {
	images, containers, err := s.images.CachedUsage(containersUsageMaxAge)
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
