// SPDX-License-Identifier: Apache-2.0

package events

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func drain(t *testing.T, s *Subscription[int], n int) []int {
	t.Helper()
	var got []int
	for len(got) < n {
		select {
		case ev, ok := <-s.C():
			if !ok {
				t.Fatalf("subscription closed after %v: %v", got, s.Err())
			}
			got = append(got, ev)
		case <-time.After(5 * time.Second):
			t.Fatalf("got %v, want %d events", got, n)
		}
	}
	return got
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFanOutInOrder(t *testing.T) {
	b := New[int](Options{Buffer: 10})
	s1, s2, s3 := b.Subscribe(), b.Subscribe(), b.Subscribe()
	for i := 1; i <= 5; i++ {
		b.Publish(i)
	}
	want := []int{1, 2, 3, 4, 5}
	for i, s := range []*Subscription[int]{s1, s2, s3} {
		if got := drain(t, s, 5); !equal(got, want) {
			t.Errorf("subscriber %d got %v, want %v", i, got, want)
		}
	}
}

func TestSlowSubscriberIsCutOffOthersGoOn(t *testing.T) {
	b := New[int](Options{Buffer: 3})
	slow, fast := b.Subscribe(), b.Subscribe()
	done := make(chan []int)
	go func() {
		var got []int
		for ev := range fast.C() {
			got = append(got, ev)
			if len(got) == 100 {
				break
			}
		}
		done <- got
	}()
	publishDone := make(chan struct{})
	go func() {
		for i := 0; i < 100; i++ {
			b.Publish(i)
			// The fast reader keeps up: give it the chance a real
			// stream has between two lifecycle events.
			for len(fast.c) == cap(fast.c) {
				time.Sleep(time.Millisecond)
			}
		}
		close(publishDone)
	}()
	select {
	case <-publishDone:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	if got := <-done; len(got) != 100 || got[99] != 99 {
		t.Errorf("fast subscriber got %d events, last %v", len(got), got[len(got)-1])
	}
	// The slow one holds its first three events, then its stream ends.
	var got []int
	for ev := range slow.C() {
		got = append(got, ev)
	}
	if !equal(got, []int{0, 1, 2}) {
		t.Errorf("slow subscriber got %v, want its buffer [0 1 2]", got)
	}
	if !errors.Is(slow.Err(), ErrSlowSubscriber) {
		t.Errorf("slow subscriber's error = %v, want ErrSlowSubscriber", slow.Err())
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("%d subscribers left, want 1", n)
	}
}

func TestUnsubscribe(t *testing.T) {
	b := New[int](Options{Buffer: 2})
	s, other := b.Subscribe(), b.Subscribe()
	s.Close()
	s.Close() // twice is fine
	if _, ok := <-s.C(); ok {
		t.Fatal("a closed subscription still delivers")
	}
	if s.Err() != nil {
		t.Errorf("Err after Close = %v, want nil", s.Err())
	}
	// Publishing more than its buffer held must not touch it again.
	for i := 0; i < 2; i++ {
		b.Publish(i)
	}
	if got := drain(t, other, 2); !equal(got, []int{0, 1}) {
		t.Errorf("other subscriber got %v", got)
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("%d subscribers, want 1", n)
	}
}

func TestBacklogGoesToTheNextSubscriber(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	b := New[int](Options{Buffer: 10, Backlog: 3, BacklogAge: time.Minute, Now: clock})
	b.Publish(1) // expires
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	for i := 2; i <= 5; i++ { // 2 is pushed out by the bound of 3
		b.Publish(i)
	}
	s := b.Subscribe()
	if got := drain(t, s, 3); !equal(got, []int{3, 4, 5}) {
		t.Errorf("backlog delivered %v, want [3 4 5]", got)
	}
	// The backlog went to that subscriber only.
	s2 := b.Subscribe()
	b.Publish(6)
	if got := drain(t, s2, 1); !equal(got, []int{6}) {
		t.Errorf("second subscriber got %v, want [6]", got)
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	b := New[int](Options{})
	s := b.Subscribe()
	b.Close()
	if _, ok := <-s.C(); ok || !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("after Close: open=%v err=%v", ok, s.Err())
	}
	b.Publish(1) // no panic
	if s2 := b.Subscribe(); !errors.Is(s2.Err(), ErrClosed) {
		t.Errorf("subscribing to a closed broker: %v", s2.Err())
	}
}

func TestSerialKeepsOrderPerKey(t *testing.T) {
	var q Serial
	var mu sync.Mutex
	got := map[string][]int{}
	block := make(chan struct{})
	q.Queue("slow", func() { <-block })
	for i := 0; i < 50; i++ {
		for _, k := range []string{"a", "b", "slow"} {
			q.Queue(k, func() { mu.Lock(); got[k] = append(got[k], i); mu.Unlock() })
		}
	}
	// "a" and "b" finish although "slow" is stuck.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got["a"]) + len(got["b"])
		mu.Unlock()
		if n == 100 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keys a and b waited on a stuck key: %d of 100 done", n)
		}
		time.Sleep(time.Millisecond)
	}
	close(block)
	q.Wait()
	for _, k := range []string{"a", "b", "slow"} {
		for i, v := range got[k] {
			if v != i {
				t.Fatalf("key %s ran out of order: %v", k, got[k])
			}
		}
		if len(got[k]) != 50 {
			t.Errorf("key %s ran %d of 50", k, len(got[k]))
		}
	}
}
