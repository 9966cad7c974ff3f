// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"syscall"

	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/oci"
)

// maxTerminationMessage is what the kubelet keeps of a termination message.
const maxTerminationMessage = 4096

func criState(status string) runtimeapi.ContainerState {
	switch status {
	case monitor.StatusCreated:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case monitor.StatusRunning:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case monitor.StatusExited:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_UNKNOWN
}

// ContainerStatus describes one container; an unknown ID is NotFound.
func (s *Service) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	r, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, toStatus(err)
	}
	st, err := s.containers.StatusState(ctx, r)
	if err != nil {
		return nil, toStatus(err)
	}
	cfg := r.Config
	out := &runtimeapi.ContainerStatus{
		Id:          r.ID,
		Metadata:    cfg.GetMetadata(),
		State:       criState(st.Status),
		CreatedAt:   r.CreatedAt,
		Image:       s.imageSpec(r),
		ImageRef:    s.imageRef(r),
		ImageId:     r.ImageID,
		Labels:      cfg.GetLabels(),
		Annotations: cfg.GetAnnotations(),
		Mounts:      statusMounts(r),
		LogPath:     r.LogPath,
		Resources:   &runtimeapi.ContainerResources{Linux: cfg.GetLinux().GetResources()},
		StopSignal:  oci.CRISignal(syscall.Signal(r.StopSignal)),
	}
	if !st.StartedAt.IsZero() {
		out.StartedAt = st.StartedAt.UnixNano()
	}
	if st.Status == monitor.StatusExited {
		out.FinishedAt = st.FinishedAt.UnixNano()
		out.ExitCode = int32(st.ExitCode)
		out.Reason = st.Reason
		out.Message = terminationMessage(r)
		if r.StartError != "" {
			out.Message = r.StartError
		}
	}
	if u, ok := s.containers.ProcessUser(r); ok {
		gids := make([]int64, 0, len(u.AdditionalGIDs))
		for _, g := range u.AdditionalGIDs {
			gids = append(gids, int64(g))
		}
		out.User = &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{
			Uid: int64(u.UID), Gid: int64(u.GID), SupplementalGroups: gids,
		}}
	}
	resp := &runtimeapi.ContainerStatusResponse{Status: out}
	if req.GetVerbose() {
		info, _ := json.Marshal(map[string]any{
			"pid":         st.Pid,
			"sandboxID":   r.SandboxID,
			"rootfs":      r.Rootfs,
			"bundle":      r.Bundle,
			"runtimeSpec": json.RawMessage(r.Spec),
		})
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

// imageRef is the digest reference of the container's image, as the kubelet
// shows it; the image ID when the image is gone or has no digest.
// imageSpec names a container's image the way its user did. The kubelet
// passes the resolved image ID to CreateContainer, but shows what status
// returns here as the pod's `image`: so the name the pod spec gave
// (user_specified_image, which the kubelet sends), else the reference the
// container was created with when that is a name, else the image's first
// tag, as containerd reports.
func (s *Service) imageSpec(r *container.Record) *runtimeapi.ImageSpec {
	given := r.Config.GetImage()
	name := given.GetUserSpecifiedImage()
	if name == "" {
		name = r.ImageRef
		if strings.HasPrefix(name, "sha256:") || strings.HasPrefix(r.ImageID, name) {
			if img, err := s.images.Get(r.ImageID); err == nil && len(img.RepoTags) > 0 {
				name = img.RepoTags[0]
			}
		}
	}
	return &runtimeapi.ImageSpec{
		Image: name, UserSpecifiedImage: given.GetUserSpecifiedImage(),
		Annotations: given.GetAnnotations(), RuntimeHandler: given.GetRuntimeHandler(),
	}
}

func (s *Service) imageRef(r *container.Record) string {
	if img, err := s.images.Get(r.ImageID); err == nil && len(img.RepoDigests) > 0 {
		return img.RepoDigests[0]
	}
	return r.ImageID
}

// terminationMessage reads what the container wrote to its termination
// message file, capped as the kubelet caps it.
func terminationMessage(r *container.Record) string {
	f, err := os.Open(r.TerminationLog)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, maxTerminationMessage)
	n, _ := f.Read(buf)
	return strings.ToValidUTF8(string(buf[:n]), "")
}

// ListContainers lists containers matching the filter's id (or prefix),
// pod, state and labels.
func (s *Service) ListContainers(ctx context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	return &runtimeapi.ListContainersResponse{Containers: s.listContainers(ctx, req.GetFilter())}, nil
}

// StreamContainers is ListContainers in batches.
func (s *Service) StreamContainers(req *runtimeapi.StreamContainersRequest, stream runtimeapi.RuntimeService_StreamContainersServer) error {
	items := s.listContainers(stream.Context(), req.GetFilter())
	for len(items) > 0 {
		n := min(streamBatch, len(items))
		if err := stream.Send(&runtimeapi.StreamContainersResponse{Containers: items[:n]}); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

func (s *Service) listContainers(ctx context.Context, f *runtimeapi.ContainerFilter) []*runtimeapi.Container {
	var out []*runtimeapi.Container
	for _, r := range s.containers.List() {
		if f.GetId() != "" && !strings.HasPrefix(r.ID, f.GetId()) {
			continue
		}
		if f.GetPodSandboxId() != "" && !strings.HasPrefix(r.SandboxID, f.GetPodSandboxId()) {
			continue
		}
		if !labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		status, err := s.containers.ListStatus(ctx, r)
		if err != nil {
			continue
		}
		state := criState(status)
		if f.GetState() != nil && f.GetState().GetState() != state {
			continue
		}
		out = append(out, &runtimeapi.Container{
			Id:           r.ID,
			PodSandboxId: r.SandboxID,
			Metadata:     r.Config.GetMetadata(),
			Image:        s.imageSpec(r),
			ImageRef:     s.imageRef(r),
			ImageId:      r.ImageID,
			State:        state,
			CreatedAt:    r.CreatedAt,
			Labels:       r.Config.GetLabels(),
			Annotations:  r.Config.GetAnnotations(),
		})
	}
	return out
}

// statusMounts reports the container's mounts; an image volume also names
// the image actually mounted (ImageSpec.image_ref), as KEP-5365 asks.
func statusMounts(r *container.Record) []*runtimeapi.Mount {
	out := make([]*runtimeapi.Mount, 0, len(r.Config.GetMounts()))
	for _, m := range r.Config.GetMounts() {
		if id, ok := r.ImageVolumes[m.GetImage().GetImage()]; ok && m.GetImage().GetImage() != "" {
			m = proto.Clone(m).(*runtimeapi.Mount)
			m.Image.ImageRef = id
		}
		out = append(out, m)
	}
	return out
}
