// SPDX-License-Identifier: Apache-2.0

package records

import (
	"crypto/rand"
	"encoding/hex"
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
