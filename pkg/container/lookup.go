// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"errors"
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

// lockExisting finds a container and takes its lock. found is false when
// it does not exist, or was removed while this call waited for the lock:
// then there is nothing to unlock and nothing to do.
func (m *Manager) lockExisting(id string) (r *Record, unlock func(), found bool, err error) {
	r, err = m.store.Get(id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil, false, nil
		}
		return nil, nil, false, err
	}
	unlock = m.lock(r.ID)
	if r, err = m.store.Get(r.ID); err != nil {
		unlock()
		if errors.Is(err, ErrNotFound) {
			return nil, nil, false, nil
		}
		return nil, nil, false, err
	}
	return r, unlock, true, nil
}
