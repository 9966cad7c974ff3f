// SPDX-License-Identifier: Apache-2.0

package events

import "sync"

// Serial runs functions in the order they were queued per key, one at a
// time per key, on a goroutine of its own: Queue never blocks, so a
// caller holding a lock may queue work that does I/O later. Keys run
// independently, so one slow key never delays another.
type Serial struct {
	mu     sync.Mutex
	queues map[string][]func()
	idle   sync.Cond // signalled when a key's queue empties
}

// Queue adds fn to key's queue.
func (q *Serial) Queue(key string, fn func()) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queues == nil {
		q.queues = map[string][]func(){}
	}
	pending, running := q.queues[key]
	q.queues[key] = append(pending, fn)
	if !running {
		go q.drain(key)
	}
}

func (q *Serial) drain(key string) {
	for {
		q.mu.Lock()
		pending := q.queues[key]
		if len(pending) == 0 {
			delete(q.queues, key)
			if q.idle.L != nil {
				q.idle.Broadcast()
			}
			q.mu.Unlock()
			return
		}
		fn := pending[0]
		q.queues[key] = pending[1:]
		q.mu.Unlock()
		fn()
	}
}

// Wait returns once every queue is empty (tests).
func (q *Serial) Wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.idle.L == nil {
		q.idle.L = &q.mu
	}
	for len(q.queues) > 0 {
		q.idle.Wait()
	}
}
