// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"sync"
	"time"
)

// minRateInterval is the shortest interval a CPU rate is computed over:
// callers that ask in quick succession (the summary API, the eviction
// manager, a metrics scrape) get the last rate rather than a noisy one.
const minRateInterval = time.Second

// cpuRates turns cumulative CPU time into usage in nano cores, which the
// kubelet takes from the runtime for pods (it computes containers' own).
// The zero value is ready; the lock guards only the map, never I/O.
type cpuRates struct {
	mu      sync.Mutex
	samples map[string]cpuSample
}

type cpuSample struct {
	at      time.Time
	nanos   uint64
	rate    uint64
	hasRate bool
}

// sample records usage (cumulative nanoseconds) for id at time at and
// returns the usage rate since the previous sample, when there is one.
func (c *cpuRates) sample(id string, at time.Time, nanos uint64) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.samples == nil {
		c.samples = map[string]cpuSample{}
	}
	prev, ok := c.samples[id]
	switch {
	case !ok || nanos < prev.nanos:
		// First sight, or the cgroup was recreated: start over.
		c.samples[id] = cpuSample{at: at, nanos: nanos}
		return 0, false
	case at.Sub(prev.at) < minRateInterval:
		return prev.rate, prev.hasRate
	}
	rate := uint64(float64(nanos-prev.nanos) / float64(at.Sub(prev.at)) * float64(time.Second))
	c.samples[id] = cpuSample{at: at, nanos: nanos, rate: rate, hasRate: true}
	return rate, true
}

// keepOnly forgets every id not in live.
func (c *cpuRates) keepOnly(live map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.samples {
		if !live[id] {
			delete(c.samples, id)
		}
	}
}
