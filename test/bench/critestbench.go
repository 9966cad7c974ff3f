// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// critestFocus picks critest's serial lifecycle benchmarks: pod, container,
// and image pull/status/remove.
const critestFocus = "lifecycle|basic operations on Image"

// samples holds durations in milliseconds, by operation.
type samples map[string][]float64

func (s samples) add(other samples) {
	for op, v := range other {
		s[op] = append(s[op], v...)
	}
}

// critestBenchmark runs critest -benchmark's lifecycle specs, n serial
// samples each, against endpoint, and returns every sample it recorded.
func (e *env) critestBenchmark(ctx context.Context, endpoint, dir string, n int) (samples, error) {
	out := filepath.Join(dir, "out")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{out, tmp} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
	}
	params := fmt.Sprintf("containersNumber: %d\ncontainersNumberParallel: 1\npodsNumber: %d\npodsNumberParallel: 1\nimagesNumber: %d\nimagesNumberParallel: 1\n", n, n, n)
	if err := writeFileIn(dir, "params.yaml", params); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, filepath.Join(e.bin, "critest"), "-benchmark",
		"--runtime-endpoint", "unix://"+endpoint, "--image-endpoint", "unix://"+endpoint,
		"--benchmarking-params-file", filepath.Join(dir, "params.yaml"),
		"--benchmarking-output-dir", out, "--ginkgo.focus", critestFocus)
	cmd.Dir = dir
	// critest makes temp dirs for some specs; keep them in the run's dir.
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	log, err := os.Create(filepath.Join(dir, "critest.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("critest -benchmark against %s: %w (log: %s)", endpoint, err, log.Name())
	}
	return readCritestResults(out)
}

// readCritestResults reads the *_benchmark_data.json files critest writes:
// each lists its operations and, per sample, their durations in ns.
func readCritestResults(dir string) (samples, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_benchmark_data.json"))
	if err != nil {
		return nil, err
	}
	got := samples{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var res struct {
			OperationsNames []string `json:"operationsNames"`
			Datapoints      []struct {
				OperationsDurationsNs []int64 `json:"operationsDurationsNs"`
			} `json:"datapoints"`
		}
		if err := json.Unmarshal(data, &res); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, p := range res.Datapoints {
			for i, op := range res.OperationsNames {
				if i < len(p.OperationsDurationsNs) {
					got[op] = append(got[op], float64(p.OperationsDurationsNs[i])/1e6)
				}
			}
		}
	}
	if len(got) == 0 {
		return nil, fmt.Errorf("no benchmark results in %s", dir)
	}
	return got, nil
}

// critestOps are the operations reported, in critest's order.
var critestOps = []string{
	"CreatePod", "StatusPod", "StopPod", "RemovePod",
	"CreateContainer", "StartContainer", "StatusContainer", "StopContainer", "RemoveContainer",
	"PullImage", "StatusImage", "RemoveImage", "ListImages",
}

func critestOpLabel(op string) string { return "critest " + strings.TrimSpace(op) }
