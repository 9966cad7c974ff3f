// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// watchdog notices a pull that stopped receiving data. It is armed only
// while at least one request is outstanding (sending, waiting for headers,
// or with a body not yet read to the end), so time spent unpacking or
// between requests never counts. Every byte received kicks it; when it has
// not been kicked for the timeout, it calls stalled once with the hosts
// that were keeping it waiting.
type watchdog struct {
	timeout time.Duration
	stalled func(hosts []string)

	lastKick atomic.Int64 // unix nanoseconds

	mu     sync.Mutex
	active map[string]int // host -> outstanding requests
	timer  *time.Timer
	done   bool // stopped, or already fired
}

func newWatchdog(timeout time.Duration, stalled func(hosts []string)) *watchdog {
	return &watchdog{timeout: timeout, stalled: stalled, active: map[string]int{}}
}

// kick records that bytes arrived. It is called for every read, so it only
// stores a timestamp; the timer checks it when it fires.
func (w *watchdog) kick() { w.lastKick.Store(time.Now().UnixNano()) }

// begin marks a request to host as outstanding.
func (w *watchdog) begin(host string) {
	w.kick()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.active[host]++
	if w.outstanding() == 1 {
		if w.timer == nil {
			w.timer = time.AfterFunc(w.timeout, w.fire)
		} else {
			w.timer.Reset(w.timeout)
		}
	}
}

// end marks a request to host as finished.
func (w *watchdog) end(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active[host]--; w.active[host] <= 0 {
		delete(w.active, host)
	}
	if w.outstanding() == 0 && w.timer != nil {
		w.timer.Stop()
	}
}

// stop disarms the watchdog for good.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) outstanding() int {
	n := 0
	for _, c := range w.active {
		n += c
	}
	return n
}

func (w *watchdog) fire() {
	w.mu.Lock()
	if w.done || w.outstanding() == 0 {
		w.mu.Unlock()
		return
	}
	// Kicks only move the timestamp; re-arm for what is left of the
	// timeout since the last one.
	if idle := time.Since(time.Unix(0, w.lastKick.Load())); idle < w.timeout {
		w.timer.Reset(w.timeout - idle)
		w.mu.Unlock()
		return
	}
	w.done = true
	hosts := make([]string, 0, len(w.active))
	for h := range w.active {
		hosts = append(hosts, h)
	}
	w.mu.Unlock()
	sort.Strings(hosts)
	w.stalled(hosts)
}

// watchedTransport reports every request and every byte of every response
// to a watchdog.
type watchedTransport struct {
	next http.RoundTripper
	dog  *watchdog
}

func (t *watchedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	t.dog.begin(host)
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.dog.end(host)
		return nil, err
	}
	t.dog.kick()
	resp.Body = &watchedBody{ReadCloser: resp.Body, dog: t.dog, host: host}
	return resp, nil
}

// watchedBody kicks the watchdog as bytes arrive, and ends the request when
// the body is read to its end, fails, or is closed.
type watchedBody struct {
	io.ReadCloser
	dog   *watchdog
	host  string
	ended sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.dog.kick()
	}
	if err != nil {
		b.finish()
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.finish()
	return b.ReadCloser.Close()
}

func (b *watchedBody) finish() { b.ended.Do(func() { b.dog.end(b.host) }) }
