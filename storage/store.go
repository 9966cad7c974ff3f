// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store is the image store. It is safe for concurrent use.
type Store struct {
	opts Options

	root      string // Options.Root, absolute and clean
	layersDir string // Root/layers
	blobs     *blobStore
	db        *bolt.DB

	// transport routes requests to per-host TLS settings and forces the
	// scheme a mirror endpoint names; pulls wrap it with their watchdog.
	transport http.RoundTripper
	mirrors   map[string][]endpoint
	pinned    pinSet

	// gcMu orders garbage collection against pulls: a pull takes its
	// leases under it, and a collection decides and unlinks under it, so
	// nothing a pull has leased is ever deleted.
	gcMu   sync.Mutex
	leases map[string]int
	gc     gcScheduler
	usage  usageCache

	pulls       pullFlights
	downloads   downloads
	blobFlights keyedFlights
	unpacks     keyedFlights

	// ctx ends when the store closes, cancelling pulls in flight; wg
	// counts them so Close can wait.
	ctx      context.Context
	cancel   context.CancelCauseFunc
	closeMu  sync.Mutex
	closed   bool
	inflight sync.WaitGroup
}

const (
	dbFile = "meta.db"
	// dbOpenTimeout bounds the wait for bbolt's file lock, so a second
	// daemon on the same root fails fast and says why.
	dbOpenTimeout = time.Second
)

// Open opens (creating if needed) the store at opts.Root, and sweeps what an
// interrupted pull or removal left behind.
func Open(opts Options) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	s := &Store{
		opts:      opts,
		root:      opts.Root,
		layersDir: filepath.Join(opts.Root, "layers"),
		blobs:     &blobStore{dir: filepath.Join(opts.Root, "blobs", "sha256")},
		leases:    map[string]int{},
	}
	// Root may be traversed by others (0711, like the daemon's root), but
	// blobs and layers stay private: unpacked layers hold setuid binaries
	// and device nodes that no unprivileged host user may reach.
	if err := os.MkdirAll(s.root, 0o711); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	for _, dir := range []string{filepath.Dir(s.blobs.dir), s.blobs.dir, s.layersDir, opts.ContainersDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	if s.mirrors, err = parseMirrors(opts.Mirrors, opts.Hosts); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	if s.transport, err = newHostTransport(opts.Hosts, s.mirrors); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	if s.pinned, err = newPinSet(opts.PinnedImages); err != nil {
		return nil, fmt.Errorf("open image store: pinned images: %w", err)
	}
	if s.db, err = openDB(filepath.Join(s.root, dbFile)); err != nil {
		return nil, fmt.Errorf("open image store: %w", err)
	}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	if err := s.sweep(); err != nil {
		s.cancel(errClosed)
		s.db.Close()
		return nil, fmt.Errorf("open image store: sweep leftovers: %w", err)
	}
	s.warmUsage()
	return s, nil
}

// Close cancels pulls in flight, waits for them to stop, and closes the
// database. The store cannot be used afterwards.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	s.closeMu.Unlock()
	// Pulls in flight end with errClosed as their cause, so their callers
	// are not told they cancelled.
	s.cancel(errClosed)
	s.inflight.Wait()
	s.stopGC()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close image store: %w", err)
	}
	return nil
}

// errClosed is what calls on a closed store return.
var errClosed = errors.New("image store is closed")

// beginWork registers a pull so Close waits for it; it fails once Close
// has begun.
func (s *Store) beginWork() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return errClosed
	}
	s.inflight.Add(1)
	return nil
}

// isPinned reports whether any of the image's names is a pinned one.
func (s *Store) isPinned(r imageRecord) bool {
	for _, ref := range r.RepoTags {
		if s.pinned.matches(ref) {
			return true
		}
	}
	for _, ref := range r.RepoDigests {
		if s.pinned.matches(ref) {
			return true
		}
	}
	return false
}
