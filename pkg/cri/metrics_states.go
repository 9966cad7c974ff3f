// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"strings"

	"github.com/podshim/podshim/pkg/metrics"
)

// MetricsStates counts pods and containers by the states the CRI reports
// for them, so the podshim_pods and podshim_containers gauges agree with
// what ListPodSandbox and ListContainers answer at the same moment.
func (s *Service) MetricsStates() metrics.States {
	return metrics.States{
		Pods: func() map[string]int {
			out := map[string]int{"ready": 0, "notready": 0}
			for _, r := range s.sandboxes.List() {
				// SANDBOX_READY → "ready"
				out[strings.ToLower(strings.TrimPrefix(s.sandboxState(r).String(), "SANDBOX_"))]++
			}
			return out
		},
		Containers: func(ctx context.Context) map[string]int {
			out := map[string]int{"created": 0, "running": 0, "exited": 0, "unknown": 0}
			for _, r := range s.containers.List() {
				state := "unknown"
				if st, err := s.containers.State(ctx, r); err == nil {
					// CONTAINER_RUNNING → "running"
					state = strings.ToLower(strings.TrimPrefix(criState(st.Status).String(), "CONTAINER_"))
				}
				out[state]++
			}
			return out
		},
	}
}
