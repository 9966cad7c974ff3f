// SPDX-License-Identifier: Apache-2.0

// Package phase times the steps of one RPC and logs them on one line at
// -v 4, so a slow call can be read off the log without a profiler.
package phase

import (
	"strings"
	"time"

	"k8s.io/klog/v2"
)

// Verbosity is the klog level the phase lines are logged at.
const Verbosity = 4

// Timer records the steps of one operation on one object. The zero of
// *Timer (nil, what Start returns when the level is off) does nothing, so
// call sites pay nothing on a node running at the default level.
type Timer struct {
	op, id      string
	start, last time.Time
	steps       strings.Builder
}

// Start begins timing op (say "StopPodSandbox") of the object id.
func Start(op, id string) *Timer {
	if !klog.V(Verbosity).Enabled() {
		return nil
	}
	now := time.Now()
	return &Timer{op: op, id: id, start: now, last: now}
}

// Step ends the step named name, begun where the previous one ended.
func (t *Timer) Step(name string) {
	if t == nil {
		return
	}
	now := time.Now()
	if t.steps.Len() > 0 {
		t.steps.WriteByte(' ')
	}
	t.steps.WriteString(name)
	t.steps.WriteByte('=')
	t.steps.WriteString(now.Sub(t.last).Round(10 * time.Microsecond).String())
	t.last = now
}

// Done logs the whole operation and its steps.
func (t *Timer) Done() {
	if t == nil {
		return
	}
	klog.V(Verbosity).InfoS("Phases", "op", t.op, "id", t.id,
		"total", time.Since(t.start).Round(10*time.Microsecond).String(), "steps", t.steps.String())
}
