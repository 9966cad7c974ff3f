// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"sync"
	"sync/atomic"
	"time"
)

// usageCache keeps the last measurements of the image store and of the
// containers' writable layers, so ImageFsInfo — which the kubelet calls
// every few seconds — does not walk every file of hundreds of containers
// each time. The image store changes only when a pull or a collection
// changes its content (changes counts them): it is measured again on the
// first call after one, before answering. The writable layers change all
// the time: their figure is at most maxAge old, measured again in the
// background once it is older, as containerd refreshes its snapshots'
// usage every 10 s.
type usageCache struct {
	changes atomic.Uint64 // bumped by pulls and collections

	mu           sync.Mutex
	images       Usage
	imagesSeen   uint64 // changes when images was measured
	haveImages   bool
	containers   Usage
	containersAt time.Time
	haveCtrs     bool
	measuring    bool
	ctrsErr      error
}

// contentChanged tells the cache the image store's content changed.
func (s *Store) contentChanged() { s.usage.changes.Add(1) }

// CachedUsage returns the image store's usage, current, and the writable
// layers', at most maxAge old (measured now on the first call). An error
// measuring the writable layers in the background is returned until a
// measurement succeeds.
func (s *Store) CachedUsage(maxAge time.Duration) (images, containers Usage, err error) {
	c := &s.usage
	c.mu.Lock()
	defer c.mu.Unlock()
	if seen := c.changes.Load(); !c.haveImages || c.imagesSeen != seen {
		u, err := s.Usage()
		if err != nil {
			return Usage{}, Usage{}, err
		}
		c.images, c.imagesSeen, c.haveImages = u, seen, true
	}
	switch {
	case !c.haveCtrs:
		u, err := s.ContainersUsage()
		if err != nil {
			return Usage{}, Usage{}, err
		}
		c.containers, c.containersAt, c.haveCtrs = u, time.Now(), true
	case time.Since(c.containersAt) > maxAge && !c.measuring:
		c.measuring = true
		go s.measureContainersUsage()
	}
	return c.images, c.containers, c.ctrsErr
}

func (s *Store) measureContainersUsage() {
	u, err := s.ContainersUsage()
	c := &s.usage
	c.mu.Lock()
	defer c.mu.Unlock()
	c.measuring, c.ctrsErr = false, err
	c.containersAt = time.Now() // a failure is not retried at every call either
	if err == nil {
		c.containers = u
	}
}

// warmUsage measures the writable layers in the background at Open, so the
// kubelet's first ImageFsInfo after a restart with many containers need
// not wait for the walk.
func (s *Store) warmUsage() {
	c := &s.usage
	c.mu.Lock()
	c.measuring = true
	c.mu.Unlock()
	go func() {
		u, err := s.ContainersUsage()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.measuring = false
		if err == nil && !c.haveCtrs {
			c.containers, c.containersAt, c.haveCtrs = u, time.Now(), true
		}
	}()
}
