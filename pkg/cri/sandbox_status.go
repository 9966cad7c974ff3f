// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/sandbox"
)

// PodSandboxStatus describes one sandbox; an unknown ID is NotFound.
func (s *Service) PodSandboxStatus(ctx context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	if req.GetPodSandboxId() == "" {
		return nil, invalid("PodSandboxStatus: pod sandbox id is empty")
	}
	r, err := s.sandboxes.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &runtimeapi.PodSandboxStatusResponse{Status: s.sandboxStatus(r)}
	if req.GetVerbose() {
		// Verbose status is for people debugging a node: it says whether
		// the pod's interface still holds its addresses, a netlink read.
		check := "ok"
		if err := s.sandboxes.CheckNetwork(r); err != nil {
			check = err.Error()
		}
		info, err := json.Marshal(map[string]any{
			"networkCheck":   check,
			"pid":            r.Pid,
			"netNamespace":   r.NetNSPath,
			"cgroupsPath":    r.CgroupsPath,
			"runtimeHandler": r.RuntimeHandler,
			"runtime":        runtimeInfo(s.sandboxes, r.ID),
			"runtimeSpec":    json.RawMessage(r.Spec),
			// What the kubelet said the pod has (RunPodSandbox, then
			// UpdatePodSandboxResources).
			"resources": r.Config.GetLinux().GetResources(),
			"overhead":  r.Config.GetLinux().GetOverhead(),
		})
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

func (s *Service) sandboxState(r *sandbox.Record) runtimeapi.PodSandboxState {
	if s.sandboxes.Ready(r) {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

func (s *Service) sandboxStatus(r *sandbox.Record) *runtimeapi.PodSandboxStatus {
	cfg := r.Config
	st := &runtimeapi.PodSandboxStatus{
		Id:             r.ID,
		Metadata:       cfg.GetMetadata(),
		State:          s.sandboxState(r),
		CreatedAt:      r.CreatedAt,
		Labels:         cfg.GetLabels(),
		Annotations:    cfg.GetAnnotations(),
		RuntimeHandler: r.RuntimeHandler,
		Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{
			Options: cfg.GetLinux().GetSecurityContext().GetNamespaceOptions(),
		}},
	}
	if len(r.IPs) > 0 && !r.NetworkDown {
		st.Network = &runtimeapi.PodSandboxNetworkStatus{Ip: r.IPs[0]}
		for _, ip := range r.IPs[1:] {
			st.Network.AdditionalIps = append(st.Network.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
		}
	}
	return st
}
