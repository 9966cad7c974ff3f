// SPDX-License-Identifier: Apache-2.0

package records

import (
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/podshim/podshim/pkg/keylock"
)

// NewID returns a random 64-hex-digit ID, the form sandbox and container
// IDs take in every CRI runtime.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

// GetLocked finds a record by ID or prefix and takes its lock. found is
// false when it does not exist, or was deleted while this call waited for
// the lock (a concurrent removal won): then there is nothing to unlock.
func (s *Store[T]) GetLocked(locks *keylock.Set, id string) (r *T, unlock func(), found bool, err error) {
	r, err = s.Get(id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		return nil, nil, false, err
	}
	fullID := s.codec.ID(r)
	unlock = locks.Lock(fullID)
	if r, err = s.Get(fullID); err != nil {
		unlock()
		if errors.Is(err, ErrNotFound) {
			err = nil
		}
		return nil, nil, false, err
	}
	return r, unlock, true, nil
}
