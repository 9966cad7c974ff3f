// SPDX-License-Identifier: Apache-2.0

package records

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
)

// NewID returns a random 64-hex-digit ID, the form sandbox and container
// IDs take in every CRI runtime.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails on Linux
	return hex.EncodeToString(b)
}

// Locks serialises operations per record ID: two RPCs on one pod or
// container never interleave, RPCs on different ones never wait.
type Locks struct{ m sync.Map }

// Lock takes the lock of id and returns its unlock.
func (l *Locks) Lock(id string) (unlock func()) {
	mu, _ := l.m.LoadOrStore(id, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// Forget drops the lock of a record that is gone.
func (l *Locks) Forget(id string) { l.m.Delete(id) }

// RWLocks is a keyed reader/writer lock: many holders of the shared side
// of a key at once, or one of the exclusive side.
type RWLocks struct{ m sync.Map }

func (l *RWLocks) of(id string) *sync.RWMutex {
	mu, _ := l.m.LoadOrStore(id, &sync.RWMutex{})
	return mu.(*sync.RWMutex)
}

// Lock takes id's lock exclusively and returns its unlock.
func (l *RWLocks) Lock(id string) (unlock func()) {
	mu := l.of(id)
	mu.Lock()
	return mu.Unlock
}

// RLock takes id's lock shared and returns its unlock.
func (l *RWLocks) RLock(id string) (unlock func()) {
	mu := l.of(id)
	mu.RLock()
	return mu.RUnlock
}

// Forget drops the lock of a key that is gone.
func (l *RWLocks) Forget(id string) { l.m.Delete(id) }

// GetLocked finds a record by ID or prefix and takes its lock. found is
// false when it does not exist, or was deleted while this call waited for
// the lock (a concurrent removal won): then there is nothing to unlock.
func (s *Store[T]) GetLocked(locks *Locks, id string) (r *T, unlock func(), found bool, err error) {
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
