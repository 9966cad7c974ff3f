// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"time"
)

// Pod-cycle operations, as crictl users and the design's pod-ready figure
// see them.
const (
	opPodReady = "pod ready (crictl runp + create + start)"
	opRunp     = "crictl runp"
	opCreate   = "crictl create"
	opStart    = "crictl start"
	opStop     = "crictl stop"
	opRm       = "crictl rm"
	opStopp    = "crictl stopp"
	opRmp      = "crictl rmp"
)

var cycleOps = []string{opPodReady, opRunp, opCreate, opStart, opStop, opRm, opStopp, opRmp}

// podCycle runs n pods one after another through crictl against the
// runtime crictlConfig names: each pod is started (runp, create and start
// of busybox's sleep, image present) and then torn down (stop, rm, stopp,
// rmp), every call timed. tag keeps pod names unique across rounds.
func (e *env) podCycle(ctx context.Context, crictlConfig, tag string, n int) (samples, error) {
	s := samples{}
	timed := func(op string, args ...string) (string, error) {
		start := time.Now()
		out, err := e.crictlWith(ctx, crictlConfig, args...)
		s[op] = append(s[op], ms(time.Since(start)))
		return out, err
	}
	for i := range n {
		name := fmt.Sprintf("cmp-%s-%d", tag, i)
		pc, err := e.podConfig(name)
		if err != nil {
			return nil, err
		}
		podFile, err := e.writeJSON(name+"-pod.json", pc)
		if err != nil {
			return nil, err
		}
		ctrFile, err := e.writeJSON(name+"-ctr.json", containerConfig())
		if err != nil {
			return nil, err
		}
		start := time.Now()
		pod, err := timed(opRunp, "runp", podFile)
		if err != nil {
			return nil, err
		}
		ctr, err := timed(opCreate, "create", pod, ctrFile, podFile)
		if err == nil {
			_, err = timed(opStart, "start", ctr)
		}
		if err != nil {
			e.crictlWith(ctx, crictlConfig, "rmp", "--force", pod)
			return nil, err
		}
		s[opPodReady] = append(s[opPodReady], ms(time.Since(start)))
		for _, step := range []struct {
			op   string
			args []string
		}{{opStop, []string{"stop", ctr}}, {opRm, []string{"rm", ctr}}, {opStopp, []string{"stopp", pod}}, {opRmp, []string{"rmp", pod}}} {
			if _, err := timed(step.op, step.args...); err != nil {
				e.crictlWith(ctx, crictlConfig, "rmp", "--force", pod)
				return nil, err
			}
		}
	}
	return s, nil
}
