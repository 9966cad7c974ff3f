// SPDX-License-Identifier: Apache-2.0

package keylock

import (
	"sync"
	"testing"
)

// The flaw of a lock map with a Forget: a key dropped while a second
// caller waits on its old lock let a third caller take a new lock beside
// the second. Here the waiter and the newcomer must still exclude each
// other, and the set must be empty once everyone is done.
func TestWaitersAndNewcomersShareOneLock(t *testing.T) {
	var s Set
	var inside, most int
	var mu sync.Mutex
	enter := func() {
		mu.Lock()
		inside++
		if inside > most {
			most = inside
		}
		mu.Unlock()
	}
	leave := func() { mu.Lock(); inside--; mu.Unlock() }

	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := s.Lock("pod")
			enter()
			leave()
			unlock()
		}()
	}
	wg.Wait()
	if most != 1 {
		t.Fatalf("%d holders of one key's exclusive lock at once", most)
	}
	if n := s.Len(); n != 0 {
		t.Fatalf("%d keys left in the set after every holder released", n)
	}
}

func TestSharedHoldersExcludeTheExclusiveOne(t *testing.T) {
	var s Set
	r1 := s.RLock("pod")
	r2 := s.RLock("pod") // two shared holders at once
	got := make(chan struct{})
	go func() {
		unlock := s.Lock("pod")
		close(got)
		unlock()
	}()
	r1()
	select {
	case <-got:
		t.Fatal("the exclusive lock was taken while a shared holder remained")
	default:
	}
	r2()
	<-got
	other := s.Lock("other") // other keys never wait
	other()
}
