// SPDX-License-Identifier: Apache-2.0

package storage

// A lease keeps blobs and layer directories that a pull in flight uses
// (stored or about to be) safe from garbage collection until the pull has
// recorded its image or given up. Leases live in memory only: after a
// restart no pull is in flight, and Open sweeps whatever was left.
type lease struct {
	s    *Store
	keys []string
}

func blobKey(hex string) string  { return "blob:" + hex }
func layerKey(hex string) string { return "layer:" + hex }

func (s *Store) newLease() *lease { return &lease{s: s} }

// hold leases keys. Taking s.gcMu means a collection that is deciding
// finishes first: anything it deletes is gone before the pull looks for it,
// and anything the pull then finds stays.
func (l *lease) hold(keys ...string) {
	l.s.gcMu.Lock()
	defer l.s.gcMu.Unlock()
	for _, k := range keys {
		l.s.leases[k]++
	}
	l.keys = append(l.keys, keys...)
}

// release drops every key the lease holds.
func (l *lease) release() {
	l.s.gcMu.Lock()
	defer l.s.gcMu.Unlock()
	for _, k := range l.keys {
		if l.s.leases[k]--; l.s.leases[k] <= 0 {
			delete(l.s.leases, k)
		}
	}
	l.keys = nil
}

// leased must be called with s.gcMu held.
func (s *Store) leased(key string) bool { return s.leases[key] > 0 }
