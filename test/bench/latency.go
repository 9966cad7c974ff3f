// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"time"
)

// podReadyReport is phase 1: the wall time from nothing to a running
// container, through crictl (the design's definition: three crictl
// invocations) and over one kept-open gRPC connection (what the kubelet
// pays). The difference is crictl's own cost: process start, config
// parsing, dialling.
type podReadyReport struct {
	Pods   int          `json:"pods"`
	Note   string       `json:"note"`
	Crictl distribution `json:"crictl_ms"`
	GRPC   distribution `json:"grpc_ms"`
}

func measurePodReady(ctx context.Context, e *env, n int) (*podReadyReport, error) {
	rep := &podReadyReport{Pods: n,
		Note: "sequential; one untimed warm-up pod each way first; the two ways alternate so load drift hits both; removal not timed"}
	// The first pod also creates the bridge and warms caches: not what a
	// node's steady state pays.
	if _, err := podReadyCrictl(ctx, e, "warm-crictl", ""); err != nil {
		return nil, err
	}
	if _, err := podReadyGRPC(ctx, e, "warm-grpc"); err != nil {
		return nil, err
	}
	var viaCrictl, viaGRPC []float64
	for i := 0; i < n; i++ {
		ways := []func() error{
			func() error {
				d, err := podReadyCrictl(ctx, e, fmt.Sprintf("lat-crictl-%d", i), "")
				viaCrictl = append(viaCrictl, ms(d))
				return err
			},
			func() error {
				d, err := podReadyGRPC(ctx, e, fmt.Sprintf("lat-grpc-%d", i))
				viaGRPC = append(viaGRPC, ms(d))
				return err
			},
		}
		if i%2 == 1 {
			ways[0], ways[1] = ways[1], ways[0]
		}
		for _, way := range ways {
			if err := way(); err != nil {
				return nil, err
			}
		}
	}
	rep.Crictl = distributionOf(viaCrictl)
	rep.GRPC = distributionOf(viaGRPC)
	return rep, nil
}

// podReadyCrictl times `crictl runp`, `crictl create`, `crictl start`,
// then removes the pod untimed; a handler other than "" goes to runp's
// --runtime.
func podReadyCrictl(ctx context.Context, e *env, name, handler string) (time.Duration, error) {
	cfg, err := e.podConfig(name)
	if err != nil {
		return 0, err
	}
	podPath, err := e.writeJSON(name+"-pod.json", cfg)
	if err != nil {
		return 0, err
	}
	ctrPath, err := e.writeJSON(name+"-container.json", containerConfig())
	if err != nil {
		return 0, err
	}

	start := time.Now()
	runp := []string{"runp", podPath}
	if handler != "" {
		runp = []string{"runp", "--runtime", handler, podPath}
	}
	pod, err := e.crictl(ctx, runp...)
	if err != nil {
		return 0, err
	}
	ctr, cerr := e.crictl(ctx, "create", "--no-pull", pod, ctrPath, podPath)
	if cerr == nil {
		_, cerr = e.crictl(ctx, "start", ctr)
	}
	took := time.Since(start)

	return took, e.finishTimedPod(ctx, cerr, pod, ctr)
}

// podReadyGRPC times the same three RPCs over the open connection.
func podReadyGRPC(ctx context.Context, e *env, name string) (time.Duration, error) {
	cfg, err := e.podConfig(name)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	pod, ctr, err := e.runPodGRPC(ctx, cfg)
	took := time.Since(start)
	return took, e.finishTimedPod(ctx, err, pod, ctr)
}

// finishTimedPod records the pod for the leak checks, notes its pause
// while it runs, and removes it; createErr is the timed part's error.
func (e *env) finishTimedPod(ctx context.Context, createErr error, pod, ctr string) error {
	if pod == "" {
		return createErr
	}
	i := e.track(pod)
	if ctr != "" {
		e.pods[i].Containers = []string{ctr}
	}
	if createErr == nil {
		createErr = e.notePause(ctx, i)
	}
	if err := e.removePod(ctx, pod); err != nil && createErr == nil {
		createErr = err
	}
	return createErr
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
