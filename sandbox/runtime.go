// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"

	"github.com/podshim/podshim/pkg/runc"
)

// runtimeOf returns the handler a pod runs under. Records written before
// handlers existed name none: they ran under the only one there was, runc.
// A handler removed from the config since the pod started is an error
// that names it: another runtime would not know the pod's containers.
func (m *Manager) runtimeOf(r *Record) (*runc.Runtime, error) {
	name := r.Runtime
	if name == "" {
		name = "runc"
	}
	rt, err := m.handlers.Resolve(name)
	if err != nil {
		return nil, fmt.Errorf("pod %s runs under runtime handler %q, which is no longer configured: %w", r.ID, name, err)
	}
	return rt, nil
}

// Runtime returns the handler of a pod (by ID or unique prefix): every
// container of the pod runs under it.
func (m *Manager) Runtime(id string) (*runc.Runtime, error) {
	r, err := m.store.Get(id)
	if err != nil {
		return nil, err
	}
	return m.runtimeOf(r)
}

// Handlers returns the configured runtime handlers.
func (m *Manager) Handlers() *runc.Handlers { return m.handlers }
