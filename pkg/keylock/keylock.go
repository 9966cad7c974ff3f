// SPDX-License-Identifier: Apache-2.0

// Package keylock is the tree's one keyed lock: a reader/writer lock per key
// (a pod or container ID), so work on one key is ordered while different
// keys proceed in parallel. An entry lives only while someone holds or
// waits for it, so the set does not grow with every ID ever seen and no
// caller has to "forget" a key: dropping a lock that another caller still
// waits on would let a third caller take a fresh lock beside the waiter.
package keylock

import "sync"

// Set holds the locks of all keys. The zero value is ready to use.
type Set struct {
	mu    sync.Mutex
	locks map[string]*entry
}

type entry struct {
	sync.RWMutex
	refs int // holders and waiters; guarded by Set.mu
}

// acquire returns key's entry with a reference taken for the caller.
func (s *Set) acquire(key string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locks == nil {
		s.locks = make(map[string]*entry)
	}
	e := s.locks[key]
	if e == nil {
		e = &entry{}
		s.locks[key] = e
	}
	e.refs++
	return e
}

// release drops the caller's reference, and the entry with the last one.
func (s *Set) release(key string, e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(s.locks, key)
	}
}

// Lock takes key's lock exclusively and returns its unlock.
func (s *Set) Lock(key string) (unlock func()) {
	e := s.acquire(key)
	e.Lock()
	return func() {
		e.Unlock()
		s.release(key, e)
	}
}

// RLock takes key's lock shared: any number of shared holders at once, but
// none while an exclusive holder has it. It returns the unlock.
func (s *Set) RLock(key string) (unlock func()) {
	e := s.acquire(key)
	e.RLock()
	return func() {
		e.RUnlock()
		s.release(key, e)
	}
}

// Len is the number of keys held or awaited now.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.locks)
}
