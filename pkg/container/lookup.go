// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"fmt"
	"slices"

	"github.com/podshim/podshim/pkg/monitor"
)

// inState returns a container's record when its live state is one of
// want, and ErrNotRunning naming the state it is in otherwise.
func (m *Manager) inState(ctx context.Context, id string, want ...string) (*Record, error) {
	r, err := m.store.Get(id)
	if err != nil {
		return nil, err
	}
	st, err := m.State(ctx, r)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, st.Status) {
		return nil, fmt.Errorf("%w: %s is %s", ErrNotRunning, r.ID, st.Status)
	}
	return r, nil
}

// running returns the record of a running container.
func (m *Manager) running(ctx context.Context, id string) (*Record, error) {
	return m.inState(ctx, id, monitor.StatusRunning)
}

// getLocked finds a container, takes its lock, and reads its record again
// under it, so a read-modify-write starts from what the last writer stored
// rather than from a copy read before the lock.
func (m *Manager) getLocked(id string) (*Record, func(), error) {
	r, unlock, found, err := m.store.GetLocked(&m.locks, id)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	return r, unlock, nil
}
