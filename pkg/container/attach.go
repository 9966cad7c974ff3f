// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"fmt"
	"io"

	"github.com/podshim/podshim/pkg/monitor"
)

// Attach connects the caller to a running container's own stdio through
// the pod's monitor, which holds it: output from now on, and input when
// the container was created with stdin.
func (m *Manager) Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, resize <-chan monitor.TerminalSize) error {
	r, err := m.store.Get(id)
	if err != nil {
		return err
	}
	mon, err := m.monitorOf(ctx, r.SandboxID)
	if err != nil {
		return fmt.Errorf("attach to %s: %w", r.ID, err)
	}
	if err := mon.Attach(ctx, r.ID, stdin, stdout, stderr, resize); err != nil {
		return fmt.Errorf("attach to %s: %w", r.ID, err)
	}
	return nil
}
