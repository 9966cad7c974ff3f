// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

const (
	perPodBudgetMiB = 3
	daemonBudgetMiB = 30
	// compared names the measure held against the budgets: the design
	// states them as RSS. PSS is reported beside it because RSS counts the
	// monitor binary's shared text once per pod, which it is not.
	compared = "VmRSS"
)

// memMiB is a memSample in MiB.
type memMiB struct {
	RSS     float64 `json:"rss_mib"`
	RssAnon float64 `json:"rss_anon_mib"`
	PSS     float64 `json:"pss_mib"`
}

func toMiB(m memSample, n int) memMiB {
	div := 1024 * float64(max(n, 1))
	return memMiB{round2(float64(m.RSSKiB) / div), round2(float64(m.AnonKiB) / div), round2(float64(m.PSSKiB) / div)}
}

// daemonReport is phase 3 (and the daemon's memory after the run).
type daemonReport struct {
	Memory    memMiB  `json:"memory"`
	Compared  string  `json:"compared"`
	BudgetMiB float64 `json:"budget_mib"`
	Within    bool    `json:"within_budget"`
}

// measureDaemonIdle reads the daemon's memory after start-up and one pull,
// with no pod. A short settle lets the pull's goroutines and buffers go;
// it is a measurement pause, not on any measured path.
func measureDaemonIdle(ctx context.Context, e *env) (*daemonReport, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(2 * time.Second):
	}
	m, err := readMem(e.daemonPid())
	if err != nil {
		return nil, fmt.Errorf("daemon memory: %w", err)
	}
	mib := toMiB(m, 1)
	return &daemonReport{Memory: mib, Compared: compared, BudgetMiB: daemonBudgetMiB, Within: mib.RSS <= daemonBudgetMiB}, nil
}

// perPodReport is phase 2: what each running pod adds (its monitor and
// its pause; the container's own process is the workload, not overhead).
type perPodReport struct {
	Pods      int     `json:"pods"`
	Monitor   string  `json:"monitor_binary"`
	PerPod    memMiB  `json:"per_pod_mean"`
	Monitors  memMiB  `json:"monitor_mean"`
	Pauses    memMiB  `json:"pause_mean"`
	Compared  string  `json:"compared"`
	BudgetMiB float64 `json:"budget_mib"`
	Within    bool    `json:"within_budget"`
}

func measurePerPod(ctx context.Context, e *env, n int) (rep *perPodReport, err error) {
	first := len(e.pods)
	defer func() {
		for _, p := range e.pods[first:] {
			if rerr := e.removePod(ctx, p.ID); rerr != nil && err == nil {
				err = rerr
			}
		}
	}()
	for i := 0; i < n; i++ {
		cfg, err := e.podConfig(fmt.Sprintf("mem-%d", i))
		if err != nil {
			return nil, err
		}
		pod, ctr, err := e.runPodGRPC(ctx, cfg)
		if pod != "" {
			j := e.track(pod)
			if ctr != "" {
				e.pods[j].Containers = []string{ctr}
			}
			if err == nil {
				err = e.notePause(ctx, j)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	// Let the monitors reach their steady state with a running container.
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(time.Second):
	}

	byPod := map[string]procRef{}
	for ref, pod := range monitors(e.state) {
		byPod[pod] = ref
	}
	var mons, pauses memSample
	binary := ""
	for _, p := range e.pods[first:] {
		mon, ok := byPod[p.ID]
		if !ok {
			return nil, fmt.Errorf("pod %s: no monitor process found (--dir %s)", p.ID, filepath.Join(e.state, "sandboxes", p.ID, "monitor"))
		}
		if args := cmdline(mon.Pid); len(args) > 0 {
			binary = filepath.Base(args[0])
		}
		mm, err := readMem(mon.Pid)
		if err != nil {
			return nil, fmt.Errorf("pod %s monitor: %w", p.ID, err)
		}
		pm, err := readMem(p.Pause.Pid)
		if err != nil {
			return nil, fmt.Errorf("pod %s pause: %w", p.ID, err)
		}
		mons, pauses = mons.add(mm), pauses.add(pm)
	}
	per := toMiB(mons.add(pauses), n)
	return &perPodReport{Pods: n, Monitor: binary, PerPod: per, Monitors: toMiB(mons, n), Pauses: toMiB(pauses, n),
		Compared: compared, BudgetMiB: perPodBudgetMiB, Within: per.RSS <= perPodBudgetMiB}, nil
}
