// SPDX-License-Identifier: Apache-2.0

package container

import "context"

// Running returns the record of a running container, NotFound for an
// unknown one and ErrNotRunning naming the state of any other: what a
// checkpoint needs of the containers it captures.
func (m *Manager) Running(ctx context.Context, id string) (*Record, error) {
	return m.running(ctx, id)
}
