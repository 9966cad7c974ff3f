// SPDX-License-Identifier: Apache-2.0

// Package events fans runtime events out to any number of subscribers
// (the CRI's GetContainerEvents streams) without ever letting one of them
// hold the runtime up: each subscriber has a bounded buffer, and one that
// falls behind by a whole buffer is cut off, its stream ended with
// ErrSlowSubscriber, rather than making Publish wait.
//
// While nobody is subscribed (a kubelet restarting, or a daemon that just
// came back up and reports the exits it missed), events are held in a
// bounded backlog for a while and handed to the next subscriber, as
// containerd does.
package events

import (
	"errors"
	"sync"
	"time"
)

// ErrSlowSubscriber ends a subscription whose buffer filled up.
var ErrSlowSubscriber = errors.New("event subscriber fell behind: its buffer is full")

// ErrClosed ends the subscriptions of a closed broker.
var ErrClosed = errors.New("event broker closed")

// Options bound a Broker's memory.
type Options struct {
	// Buffer is each subscriber's capacity (default 1000).
	Buffer int
	// Backlog is how many events are kept while nobody subscribes
	// (default 1000; the oldest go first), and BacklogAge for how long
	// (default 5 minutes).
	Backlog    int
	BacklogAge time.Duration
	// Now is the clock (tests).
	Now func() time.Time
}

type held[T any] struct {
	ev T
	at time.Time
}

// Broker fans events of type T out. Its methods are safe for concurrent
// use; no method blocks on a subscriber.
type Broker[T any] struct {
	opts    Options
	mu      sync.Mutex
	subs    map[*Subscription[T]]struct{}
	backlog []held[T]
	closed  bool
}

// New returns a broker.
func New[T any](opts Options) *Broker[T] {
	if opts.Buffer <= 0 {
		opts.Buffer = 1000
	}
	if opts.Backlog <= 0 {
		opts.Backlog = 1000
	}
	if opts.BacklogAge <= 0 {
		opts.BacklogAge = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Broker[T]{opts: opts, subs: map[*Subscription[T]]struct{}{}}
}

// Subscription receives events on C until it is closed, cut off or the
// broker closes; then C is closed and Err says why.
type Subscription[T any] struct {
	b   *Broker[T]
	c   chan T
	err error // set, under b.mu, before c is closed
}

// C is the subscription's events, in publication order.
func (s *Subscription[T]) C() <-chan T { return s.c }

// Err is nil while the subscription lives or after Close, else
// ErrSlowSubscriber or ErrClosed. Read it once C is closed.
func (s *Subscription[T]) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// Close unsubscribes. It may be called more than once.
func (s *Subscription[T]) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.dropLocked(s, nil)
}

// Subscribe starts a subscription. It first receives what the backlog
// holds, if it fits its buffer (the newest are kept).
func (b *Broker[T]) Subscribe() *Subscription[T] {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &Subscription[T]{b: b, c: make(chan T, b.opts.Buffer)}
	if b.closed {
		s.err = ErrClosed
		close(s.c)
		return s
	}
	b.expireLocked()
	backlog := b.backlog
	if len(backlog) > b.opts.Buffer {
		backlog = backlog[len(backlog)-b.opts.Buffer:]
	}
	for _, h := range backlog {
		s.c <- h.ev // fits: the buffer is at least as large
	}
	b.backlog = nil
	b.subs[s] = struct{}{}
	return s
}

// Publish hands ev to every subscriber, or to the backlog while there is
// none. A subscriber whose buffer is full is cut off.
func (b *Broker[T]) Publish(ev T) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if len(b.subs) == 0 {
		b.expireLocked()
		if len(b.backlog) >= b.opts.Backlog {
			b.backlog = b.backlog[1:]
		}
		b.backlog = append(b.backlog, held[T]{ev: ev, at: b.opts.Now()})
		return
	}
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			b.dropLocked(s, ErrSlowSubscriber)
		}
	}
}

// Subscribers counts the live subscriptions.
func (b *Broker[T]) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every subscription with ErrClosed and drops the backlog.
func (b *Broker[T]) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		b.dropLocked(s, ErrClosed)
	}
	b.backlog = nil
	b.closed = true
}

func (b *Broker[T]) dropLocked(s *Subscription[T], err error) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.err = err
	close(s.c)
}

func (b *Broker[T]) expireLocked() {
	cutoff := b.opts.Now().Add(-b.opts.BacklogAge)
	i := 0
	for i < len(b.backlog) && b.backlog[i].at.Before(cutoff) {
		i++
	}
	b.backlog = b.backlog[i:]
}
