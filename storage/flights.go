// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"sync"
)

// keyedFlights lets concurrent pulls that need the same blob or layer do
// the work once: the first caller runs it, the others wait for its result.
type keyedFlights struct {
	mu    sync.Mutex
	calls map[string]*keyedCall
}

type keyedCall struct {
	done chan struct{}
	err  error
}

// do runs fn for key, or waits for the run another caller started. ran
// tells which: a waiter seeing an error may try again itself, since the
// run it waited for may have failed for reasons of its own pull (its
// caller gave up, its mirror failed).
func (f *keyedFlights) do(ctx context.Context, key string, fn func() error) (ran bool, err error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*keyedCall{}
	}
	if c, ok := f.calls[key]; ok {
		f.mu.Unlock()
		select {
		case <-c.done:
			return false, c.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	c := &keyedCall{done: make(chan struct{})}
	f.calls[key] = c
	f.mu.Unlock()

	c.err = fn()
	f.mu.Lock()
	delete(f.calls, key)
	f.mu.Unlock()
	close(c.done)
	return true, c.err
}

// doShared runs fn through f, retrying as the runner when the run it
// waited for failed, so one pull's failure does not fail another's.
func (f *keyedFlights) doShared(ctx context.Context, key string, fn func() error) error {
	const maxWaits = 3
	for i := 0; ; i++ {
		ran, err := f.do(ctx, key, fn)
		if err == nil || ran || ctx.Err() != nil || i == maxWaits {
			return err
		}
	}
}

// pullFlights shares one pull among concurrent callers asking for the same
// reference with the same credential. The pull runs detached from any one
// caller: a caller that gives up gets its own context's error at once,
// and the pull is cancelled only when every caller has given up.
type pullFlights struct {
	mu    sync.Mutex
	calls map[string]*pullCall
}

type pullCall struct {
	ctx     context.Context // the pull's own, ended by cancel
	done    chan struct{}
	rec     imageRecord
	err     error
	waiters int
	cancel  context.CancelCauseFunc
}

// join returns the call for key, creating it with newCall if there is
// none; started tells the caller it must run the new call.
func (f *pullFlights) join(key string, newCall func() *pullCall) (c *pullCall, started bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]*pullCall{}
	}
	c, ok := f.calls[key]
	if !ok {
		c = newCall()
		f.calls[key] = c
	}
	c.waiters++
	return c, !ok
}

// leave is called by a caller that gave up. The last one out cancels the
// pull and forgets it, so a new caller starts afresh rather than joining a
// pull that is being cancelled.
func (f *pullFlights) leave(key string, c *pullCall) {
	f.mu.Lock()
	c.waiters--
	last := c.waiters == 0
	if last && f.calls[key] == c {
		delete(f.calls, key)
	}
	f.mu.Unlock()
	if last {
		c.cancel(context.Canceled)
	}
}

// finish publishes the pull's result.
func (f *pullFlights) finish(key string, c *pullCall, rec imageRecord, err error) {
	f.mu.Lock()
	if f.calls[key] == c {
		delete(f.calls, key)
	}
	c.rec, c.err = rec, err
	f.mu.Unlock()
	close(c.done)
	c.cancel(nil)
}
