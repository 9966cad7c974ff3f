// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"net"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// UpdateRuntimeConfig takes the node's pod CIDR from the kubelet; podshim's
// default network then hands out addresses from it. A network the operator
// configured is left alone.
func (s *Service) UpdateRuntimeConfig(ctx context.Context, req *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	cidr := req.GetRuntimeConfig().GetNetworkConfig().GetPodCidr()
	if cidr == "" {
		return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
	}
	// The kubelet may send a dual-stack pair, "v4cidr,v6cidr".
	for _, c := range strings.Split(cidr, ",") {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(c)); err != nil {
			return nil, invalid("UpdateRuntimeConfig: pod CIDR %q: %v", c, err)
		}
	}
	if err := s.network.SetPodCIDR(cidr); err != nil {
		return nil, toStatus(err)
	}
	klog.Infof("pod CIDR set to %s", cidr)
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}
