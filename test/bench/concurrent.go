// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// concurrentReport is phase 4: M pods asked for, Batch at a time (0: all
// at once), as a kubelet does after a node restart or a large rollout;
// then, with all of them running, the latency of the calls the kubelet
// makes periodically, and the daemon's memory.
type concurrentReport struct {
	Pods          int                     `json:"pods"`
	Batch         int                     `json:"batch"`
	Running       int                     `json:"running"`
	Periodic      map[string]distribution `json:"periodic_calls_ms,omitempty"`
	DaemonAtPods  *memMiB                 `json:"daemon_with_pods_running,omitempty"`
	Restart       *restartReport          `json:"restart,omitempty"`
	CreateSeconds float64                 `json:"create_seconds"`
	PodsPerSecond float64                 `json:"pods_per_second"`
	RemoveSeconds float64                 `json:"remove_seconds"`
	Failures      []string                `json:"failures,omitempty"`
}

func measureConcurrent(ctx context.Context, e *env, m, batch int) (*concurrentReport, error) {
	rep := &concurrentReport{Pods: m, Batch: batch}
	cfgs := make([]*runtimeapi.PodSandboxConfig, m)
	for i := range cfgs {
		var err error
		if cfgs[i], err = e.podConfig(fmt.Sprintf("conc-%d", i)); err != nil {
			return nil, err
		}
	}

	type result struct {
		pod, ctr string
		err      error
	}
	results := make([]result, m)
	start := time.Now()
	var wg sync.WaitGroup
	size := m
	if batch > 0 {
		size = batch
	}
	slots := make(chan struct{}, max(size, 1))
	for i := range cfgs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			pod, ctr, err := e.runPodGRPC(ctx, cfgs[i])
			results[i] = result{pod, ctr, err}
		}()
	}
	wg.Wait()

	first := len(e.pods)
	var ctrs []string
	for _, r := range results {
		if r.err != nil {
			rep.Failures = append(rep.Failures, r.err.Error())
		}
		if r.pod == "" {
			continue
		}
		j := e.track(r.pod)
		if r.ctr != "" {
			e.pods[j].Containers = []string{r.ctr}
			if r.err == nil {
				ctrs = append(ctrs, r.ctr)
			}
		}
	}
	running, notRunning := e.waitRunning(ctx, ctrs, 2*time.Minute)
	took := time.Since(start)
	rep.Running = running
	rep.Failures = append(rep.Failures, notRunning...)
	rep.CreateSeconds = round2(took.Seconds())
	rep.PodsPerSecond = round2(float64(running) / took.Seconds())

	// Untimed: note every pause so the leak check can tell it is gone.
	for j := first; j < len(e.pods) && ctx.Err() == nil; j++ {
		if err := e.notePause(ctx, j); err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
	}

	if rep.Running > 0 && ctx.Err() == nil {
		rep.Periodic = measurePeriodic(ctx, e, periodicSamples)
		if mem, err := readMem(e.daemonPid()); err == nil {
			v := toMiB(mem, 1)
			rep.DaemonAtPods = &v
		}
		pods, running := map[string]bool{}, map[string]bool{}
		for j := first; j < len(e.pods); j++ {
			pods[e.pods[j].ID] = true
		}
		for _, id := range ctrs {
			running[id] = true
		}
		var err error
		if rep.Restart, err = measureRestart(ctx, e, pods, running); err != nil {
			return rep, err
		}
		rep.Failures = append(rep.Failures, rep.Restart.Problems...)
	}

	rstart := time.Now()
	errs := make([]error, len(e.pods)-first)
	for j := first; j < len(e.pods); j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[j-first] = e.removePod(ctx, e.pods[j].ID)
		}()
	}
	wg.Wait()
	rep.RemoveSeconds = round2(time.Since(rstart).Seconds())
	for _, err := range errs {
		if err != nil {
			rep.Failures = append(rep.Failures, err.Error())
		}
	}
	return rep, ctx.Err()
}

// waitRunning polls ListContainers until every container is RUNNING, has
// left CREATED for good (exited), or the limit passes. It returns how many
// run and why the others do not. Polling is the harness's, not podshim's;
// StartContainer has normally returned with the container running.
func (e *env) waitRunning(ctx context.Context, ids []string, limit time.Duration) (int, []string) {
	pending := map[string]string{}
	for _, id := range ids {
		pending[id] = "never listed"
	}
	running := 0
	deadline := time.Now().Add(limit)
	for len(pending) > 0 {
		lctx, cancel := rpcContext(ctx)
		resp, err := e.rt.ListContainers(lctx, &runtimeapi.ListContainersRequest{
			Filter: &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"podshim-bench": "1"}}})
		cancel()
		if err == nil {
			for _, c := range resp.Containers {
				if _, ok := pending[c.Id]; !ok {
					continue
				}
				switch c.State {
				case runtimeapi.ContainerState_CONTAINER_RUNNING:
					running++
					delete(pending, c.Id)
				case runtimeapi.ContainerState_CONTAINER_EXITED:
					pending[c.Id] = "exited"
				default:
					pending[c.Id] = c.State.String()
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil || onlyExited(pending) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	var why []string
	for id, state := range pending {
		why = append(why, fmt.Sprintf("container %s not running: %s", id, state))
	}
	return running, why
}

// onlyExited tells that waiting longer cannot help: an exited container
// never runs again.
func onlyExited(pending map[string]string) bool {
	for _, state := range pending {
		if state != "exited" {
			return false
		}
	}
	return true
}

// periodicSamples is how often each periodic call is timed.
const periodicSamples = 50

// measurePeriodic times, one after another, the calls a kubelet makes
// every few seconds whatever happens on the node (PLEG relists, the
// stats and eviction managers, image GC), with every pod running.
func measurePeriodic(ctx context.Context, e *env, n int) map[string]distribution {
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"ListPodSandbox", func(c context.Context) error {
			_, err := e.rt.ListPodSandbox(c, &runtimeapi.ListPodSandboxRequest{})
			return err
		}},
		{"ListContainers", func(c context.Context) error {
			_, err := e.rt.ListContainers(c, &runtimeapi.ListContainersRequest{})
			return err
		}},
		{"ListContainerStats", func(c context.Context) error {
			_, err := e.rt.ListContainerStats(c, &runtimeapi.ListContainerStatsRequest{})
			return err
		}},
		{"ListPodSandboxStats", func(c context.Context) error {
			_, err := e.rt.ListPodSandboxStats(c, &runtimeapi.ListPodSandboxStatsRequest{})
			return err
		}},
		{"ImageFsInfo", func(c context.Context) error {
			_, err := e.img.ImageFsInfo(c, &runtimeapi.ImageFsInfoRequest{})
			return err
		}},
	}
	out := map[string]distribution{}
	for _, c := range calls {
		var got []float64
		for range n {
			if ctx.Err() != nil {
				break
			}
			rctx, cancel := rpcContext(ctx)
			start := time.Now()
			err := c.call(rctx)
			took := ms(time.Since(start))
			cancel()
			if err == nil {
				got = append(got, took)
			}
		}
		d := distributionOf(got)
		d.Samples = nil // the percentiles say it; 50 numbers per call would not
		out[c.name] = d
	}
	return out
}
