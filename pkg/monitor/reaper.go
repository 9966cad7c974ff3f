// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// exitStatus is one reaped process.
type exitStatus struct {
	pid    int
	status syscall.WaitStatus
	at     time.Time
}

// code is the exit code as a shell reports it: 128+signal when signalled.
func (e exitStatus) code() int {
	if e.status.Signaled() {
		return 128 + int(e.status.Signal())
	}
	return e.status.ExitStatus()
}

// orphanTTL bounds how long an exit nobody waits for is kept: long enough
// for the creator of a container to register its init's pid.
const orphanTTL = time.Minute

// reaper is the only code in the monitor that waits for children. Being a
// sub-reaper, the monitor inherits every container init and any process a
// dying runc leaves behind, so it must reap with wait4(-1); exec.Cmd.Wait
// would then race with it for runc's own exit. Instead every command is
// started through the reaper and its exit is delivered on a channel, as
// go-runc's Monitor interface intends.
type reaper struct {
	// mu is held while a command starts and while exits are collected,
	// so a pid is always registered before its exit can be reaped.
	mu      sync.Mutex
	waiters map[int]chan exitStatus
	orphans map[int]exitStatus
}

// newReaper makes the process a child sub-reaper and starts reaping.
func newReaper() (*reaper, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("become child sub-reaper: %w", err)
	}
	r := &reaper{waiters: map[int]chan exitStatus{}, orphans: map[int]exitStatus{}}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	go func() {
		for range sigs {
			r.reap()
		}
	}()
	// A child may have exited before Notify took effect.
	r.reap()
	return r, nil
}

// start starts cmd and returns the channel its exit will arrive on. cmd's
// stdio must be *os.File (or nil) so that exec.Cmd needs no goroutine that
// only Wait would end; Wait is never called.
func (r *reaper) start(cmd *exec.Cmd) (<-chan exitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ch := make(chan exitStatus, 1)
	r.waiters[cmd.Process.Pid] = ch
	return ch, nil
}

// run starts cmd and waits for it.
func (r *reaper) run(cmd *exec.Cmd) (exitStatus, error) {
	ch, err := r.start(cmd)
	if err != nil {
		return exitStatus{}, err
	}
	e := <-ch
	cmd.Process.Release() // the pidfd os.Process holds; Wait never will
	return e, nil
}

// watch returns the channel the exit of pid, a process someone else
// started (a container init), will arrive on. If it was already reaped
// at or after since, the exit is delivered at once.
func (r *reaper) watch(pid int, since time.Time) <-chan exitStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan exitStatus, 1)
	if e, ok := r.orphans[pid]; ok && !e.at.Before(since) {
		delete(r.orphans, pid)
		ch <- e
		return ch
	}
	r.waiters[pid] = ch
	return ch
}

// forget drops a watch that will not be waited on any more.
func (r *reaper) forget(pid int) {
	r.mu.Lock()
	delete(r.waiters, pid)
	r.mu.Unlock()
}

// reap collects every exited child and hands each exit to its waiter.
// SIGCHLDs coalesce, so one signal may stand for many exits.
func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		e := exitStatus{pid: pid, status: ws, at: time.Now()}
		if ch, ok := r.waiters[pid]; ok {
			delete(r.waiters, pid)
			ch <- e
			continue
		}
		r.keepOrphan(e)
	}
}

// keepOrphan remembers an exit nobody waits for yet, dropping stale ones
// so the map stays small however many orphans pass through.
func (r *reaper) keepOrphan(e exitStatus) {
	for pid, o := range r.orphans {
		if e.at.Sub(o.at) > orphanTTL {
			delete(r.orphans, pid)
		}
	}
	r.orphans[e.pid] = e
}
