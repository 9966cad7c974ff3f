// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// gcScheduler runs the collections that removals ask for, GCDelay after
// the first request; the requests made meanwhile share it.
//
// Why wait: content that no image references any more is often wanted
// back at once — the kubelet's image GC removes an image that the next pod
// pulls again, a rollout back re-pulls the old tag, critest pulls and
// removes one image in a loop. Kept a little, that pull finds every blob
// and unpacked layer in place and fetches only the manifest, as on
// containerd, whose collector also runs apart from removals. Deleting a
// layer tree also leaves the RemoveImage and RemoveContainer paths.
type gcScheduler struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
	running sync.WaitGroup
}

// scheduleGC collects at once when the store has no GC delay, otherwise
// arranges for a collection soon. Open's sweep collects whatever a
// daemon that stopped first left waiting.
func (s *Store) scheduleGC() error {
	if s.opts.GCDelay <= 0 {
		return s.collectGarbage()
	}
	g := &s.gc
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped || g.timer != nil {
		return nil
	}
	g.running.Add(1)
	g.timer = time.AfterFunc(s.opts.GCDelay, func() {
		defer g.running.Done()
		g.mu.Lock()
		g.timer = nil
		g.mu.Unlock()
		if err := s.collectGarbage(); err != nil {
			klog.ErrorS(err, "Deferred image garbage collection failed; the next one retries")
		}
	})
	return nil
}

// stopGC cancels a collection not yet begun and waits for one running, so
// the database can close under neither.
func (s *Store) stopGC() {
	g := &s.gc
	g.mu.Lock()
	g.stopped = true
	if g.timer != nil && g.timer.Stop() {
		g.timer = nil
		g.running.Done()
	}
	g.mu.Unlock()
	g.running.Wait()
}
