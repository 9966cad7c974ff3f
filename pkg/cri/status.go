// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"encoding/json"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Status reports the runtime's conditions. RuntimeReady is true once the
// server answers; NetworkReady is false, with its reason, while no usable
// CNI network exists: the kubelet must not schedule pods it cannot wire.
func (s *Service) Status(ctx context.Context, req *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	netCond := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: true}
	if err := s.network.Ready(); err != nil {
		netCond.Status = false
		netCond.Reason = "NetworkPluginNotReady"
		netCond.Message = "podshim: " + err.Error()
	}
	resp := &runtimeapi.StatusResponse{
		Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
			{Type: runtimeapi.RuntimeReady, Status: true},
			netCond,
		}},
		RuntimeHandlers: s.runtimeHandlers(),
		// Merge and Strict are both built (pkg/oci); the kubelet only
		// sends Strict to runtimes that say so.
		Features: &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
	if req.GetVerbose() {
		info, err := json.Marshal(map[string]any{
			"root":         s.cfg.Root,
			"state":        s.cfg.State,
			"listen":       s.cfg.Listen,
			"cgroupDriver": s.cfg.CgroupDriver,
			"runtimes":     s.handlerInfo(),
			"registry":     s.cfg.Registry,
			"startedAt":    s.started,
		})
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Info = map[string]string{"config": string(info)}
	}
	return resp, nil
}
