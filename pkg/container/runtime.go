// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"errors"
	"fmt"

	"github.com/podshim/podshim/pkg/records"
)

// deleteFromRuntime removes a container's runtime state and cgroup
// without its monitor, under its pod's handler. A container whose pod
// record is gone is deleted from every handler's root: deleting what a
// root does not hold succeeds, so only the right one acts.
func (m *Manager) deleteFromRuntime(ctx context.Context, r *Record) error {
	rt, err := m.sandboxes.Runtime(r.SandboxID)
	if err == nil {
		return rt.Delete(ctx, r.ID)
	}
	if !errors.Is(err, records.ErrNotFound) {
		return err
	}
	var errs []error
	for _, rt := range m.sandboxes.Handlers().All() {
		if err := rt.Delete(ctx, r.ID); err != nil {
			errs = append(errs, fmt.Errorf("handler %s: %w", rt.Name(), err))
		}
	}
	return errors.Join(errs...)
}
