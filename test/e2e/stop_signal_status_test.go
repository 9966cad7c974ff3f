// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ContainerStatus reports the stop signal the container will get: the
// CRI's when it asks for one, else the default (busybox's image has none).
func TestContainerStatusReportsTheStopSignal(t *testing.T) {
	e := newPodEnv(t, "")
	quit := e.containerConfig("quit", "sleep", "1000")
	quit.StopSignal = runtimeapi.Signal_SIGNAL_SIGQUIT
	for id, want := range map[string]runtimeapi.Signal{
		e.create(t, quit): runtimeapi.Signal_SIGNAL_SIGQUIT,
		e.create(t, e.containerConfig("default", "sleep", "1000")): runtimeapi.Signal_SIGNAL_SIGTERM,
	} {
		if got := e.status(t, id).StopSignal; got != want {
			t.Errorf("container %s: stop signal %v, want %v", id, got, want)
		}
	}
}
