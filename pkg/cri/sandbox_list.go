// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandbox lists sandboxes matching the filter's id (or id prefix),
// state and label selector (every label must match).
func (s *Service) ListPodSandbox(ctx context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	return &runtimeapi.ListPodSandboxResponse{Items: s.listSandboxes(req.GetFilter())}, nil
}

// StreamPodSandboxes is ListPodSandbox in batches, for nodes with many pods.
func (s *Service) StreamPodSandboxes(req *runtimeapi.StreamPodSandboxesRequest, stream runtimeapi.RuntimeService_StreamPodSandboxesServer) error {
	items := s.listSandboxes(req.GetFilter())
	for len(items) > 0 {
		n := min(streamBatch, len(items))
		if err := stream.Send(&runtimeapi.StreamPodSandboxesResponse{PodSandboxes: items[:n]}); err != nil {
			return err
		}
		items = items[n:]
	}
	return nil
}

func (s *Service) listSandboxes(f *runtimeapi.PodSandboxFilter) []*runtimeapi.PodSandbox {
	var out []*runtimeapi.PodSandbox
	for _, r := range s.sandboxes.List() {
		if f.GetId() != "" && !strings.HasPrefix(r.ID, f.GetId()) {
			continue
		}
		state := s.sandboxState(r)
		if f.GetState() != nil && f.GetState().GetState() != state {
			continue
		}
		if !labelsMatch(r.Config.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, &runtimeapi.PodSandbox{
			Id:             r.ID,
			Metadata:       r.Config.GetMetadata(),
			State:          state,
			CreatedAt:      r.CreatedAt,
			Labels:         r.Config.GetLabels(),
			Annotations:    r.Config.GetAnnotations(),
			RuntimeHandler: r.RuntimeHandler,
		})
	}
	return out
}

// labelsMatch is the CRI's selector: every selector label present and equal.
func labelsMatch(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
