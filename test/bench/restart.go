// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// restartReport is the daemon killed -9 with every pod of the concurrent
// phase running, then started again: how long until it answers, and until
// it lists every pod and container as before (what `crictl ps` and the
// kubelet's first relist need).
type restartReport struct {
	Pods              int      `json:"pods"`
	AnswerMs          float64  `json:"answer_ms"`
	ListsEverythingMs float64  `json:"lists_everything_ms"`
	Problems          []string `json:"problems,omitempty"`
}

func measureRestart(ctx context.Context, e *env, pods, containers map[string]bool) (*restartReport, error) {
	rep := &restartReport{Pods: len(pods)}
	e.conn.Close()
	e.daemon.cmd.Process.Kill()
	<-e.daemon.done
	start := time.Now()
	if err := e.startDaemon(ctx); err != nil {
		return rep, fmt.Errorf("restart after kill -9: %w", err)
	}
	rep.AnswerMs = round2(ms(time.Since(start)))
	for deadline := time.Now().Add(time.Minute); ; {
		missing := e.missingAfterRestart(ctx, pods, containers)
		if len(missing) == 0 {
			rep.ListsEverythingMs = round2(ms(time.Since(start)))
			return rep, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			rep.Problems = missing
			return rep, ctx.Err()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// missingAfterRestart says which pods are not listed ready and which
// containers are not listed running.
func (e *env) missingAfterRestart(ctx context.Context, pods, containers map[string]bool) []string {
	rctx, cancel := rpcContext(ctx)
	defer cancel()
	ps, err := e.rt.ListPodSandbox(rctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return []string{"ListPodSandbox: " + err.Error()}
	}
	cs, err := e.rt.ListContainers(rctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return []string{"ListContainers: " + err.Error()}
	}
	ready, running := map[string]bool{}, map[string]bool{}
	for _, p := range ps.Items {
		ready[p.Id] = p.State == runtimeapi.PodSandboxState_SANDBOX_READY
	}
	for _, c := range cs.Containers {
		running[c.Id] = c.State == runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	var missing []string
	for id := range pods {
		if !ready[id] {
			missing = append(missing, "pod "+id+" not listed ready")
		}
	}
	for id := range containers {
		if !running[id] {
			missing = append(missing, "container "+id+" not listed running")
		}
	}
	return missing
}
