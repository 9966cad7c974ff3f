// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"context"
	"fmt"
)

// Live returns the containers of this runc root that have a process, running
// or paused, by ID, with their init's pid. Start-up recovery keeps these even
// when no record names them: a lost record must never cost a running workload.
func (r *Runtime) Live(ctx context.Context) (map[string]int, error) {
	cs, err := r.client("").List(ctx)
	if err != nil {
		return nil, fmt.Errorf("runc list: %w", err)
	}
	live := map[string]int{}
	for _, c := range cs {
		if c.Status == "running" || c.Status == "paused" {
			live[c.ID] = c.Pid
		}
	}
	return live, nil
}

// Live returns the live containers of every handler's root. A container
// is in the root of the handler its pod asked for, so recovery must ask
// them all; one handler that cannot answer makes the whole answer unknown.
func (h *Handlers) Live(ctx context.Context) (map[string]int, error) {
	live := map[string]int{}
	for _, rt := range h.All() {
		l, err := rt.Live(ctx)
		if err != nil {
			return nil, fmt.Errorf("handler %s: %w", rt.Name(), err)
		}
		for id, pid := range l {
			live[id] = pid
		}
	}
	return live, nil
}
