// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Every pod of a busy node is in one ListPodSandboxStats, each with its
// network read in its own namespace and its processes counted. The time
// of the lists is logged, not asserted (the figure for the docs:
// PODSHIM_E2E_STATS_PODS=200).
func TestListPodSandboxStatsCoversEveryPod(t *testing.T) {
	n := 30
	if v, err := strconv.Atoi(os.Getenv("PODSHIM_E2E_STATS_PODS")); err == nil && v > 0 {
		n = v
	}
	d := startDaemonOn(t, fencedPodNet(t, "pshb8", "10.182.252.0/22"), "")
	ids := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			resp, err := d.rt.RunPodSandbox(ctxT(t, 2*time.Minute), &runtimeapi.RunPodSandboxRequest{Config: podConfig(fmt.Sprintf("scale-%d", i))})
			if err != nil {
				t.Errorf("pod %d: %v", i, err)
				return
			}
			ids[i] = resp.PodSandboxId
		}()
	}
	wg.Wait()
	// Removed here, several at a time, each with its own deadline: the
	// daemon's cleanup has one deadline for all, too short for hundreds.
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, id := range ids {
			if id == "" {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
					t.Errorf("stop pod %s: %v", id, err)
					return
				}
				if _, err := d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
					t.Errorf("remove pod %s: %v", id, err)
				}
			}()
		}
		wg.Wait()
	})
	if t.Failed() {
		return
	}
	for round := 0; round < 3; round++ {
		start := time.Now()
		resp, err := d.rt.ListPodSandboxStats(ctxT(t, time.Minute), &runtimeapi.ListPodSandboxStatsRequest{})
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Stats) != n {
			t.Fatalf("%d pods listed, want %d", len(resp.Stats), n)
		}
		for _, s := range resp.Stats {
			if s.GetLinux().GetNetwork().GetDefaultInterface().GetName() != "eth0" || s.GetLinux().GetProcess().GetProcessCount().GetValue() < 1 {
				t.Fatalf("pod %s: network %v process %v", s.GetAttributes().GetId(), s.GetLinux().GetNetwork(), s.GetLinux().GetProcess())
			}
		}
		start = time.Now()
		m, err := d.rt.ListPodSandboxMetrics(ctxT(t, time.Minute), &runtimeapi.ListPodSandboxMetricsRequest{})
		mtook := time.Since(start)
		if err != nil || len(m.PodMetrics) != n {
			t.Fatalf("metrics of %d pods (want %d): %v", len(m.GetPodMetrics()), n, err)
		}
		t.Logf("%d pods: ListPodSandboxStats %v, ListPodSandboxMetrics %v", n, took, mtook)
	}
}
