// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"encoding/binary"
	"os"
	"slices"
	"sync"
)

// attachBuffer bounds the output queued for one attachment. The log
// writers never wait for an attached client: what does not fit is dropped
// for that client, so a slow one loses output instead of stalling the
// container, and costs the monitor at most this much (twice, with the
// buffer being written).
const attachBuffer = 64 * 1024

// teeReader hands what a log writer reads from a container's output to
// the attachments too.
type teeReader struct {
	f    *os.File
	kind byte
	hub  *outputHub
}

func (t *teeReader) Read(p []byte) (int, error) {
	n, err := t.f.Read(p)
	if n > 0 {
		t.hub.send(t.kind, p[:n])
	}
	return n, err
}

// outputHub is the set of a container's attachments. Its zero value has
// none.
type outputHub struct {
	mu     sync.Mutex
	atts   []*attachment
	closed bool
	gone   chan struct{} // closed by close; made on first use
}

// send queues a copy of p, as a frame of kind, for every attachment.
func (h *outputHub) send(kind byte, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.atts {
		a.queue(kind, p, false)
	}
}

// add registers a new attachment; it is nil once the container's stdio
// was released.
func (h *outputHub) add() *attachment {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	a := &attachment{ready: make(chan struct{}, 1)}
	h.atts = append(h.atts, a)
	return a
}

func (h *outputHub) remove(a *attachment) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.atts {
		if b == a {
			h.atts = slices.Delete(h.atts, i, i+1)
			return
		}
	}
}

// done is closed once the container's stdio is released: no output will
// come any more, even if its exit was never seen.
func (h *outputHub) done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.gone == nil {
		h.gone = make(chan struct{})
		if h.closed {
			close(h.gone)
		}
	}
	return h.gone
}

func (h *outputHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	if h.gone != nil {
		close(h.gone)
	}
}

// attachment is the output waiting to be written to one attached client,
// already framed.
type attachment struct {
	mu      sync.Mutex
	pending []byte
	ready   chan struct{} // holds a token when pending has something
}

// queue appends a frame, or drops it if the client is too far behind;
// the final response (force) is never dropped.
func (a *attachment) queue(kind byte, p []byte, force bool) {
	a.mu.Lock()
	if !force && len(a.pending)+5+len(p) > attachBuffer {
		a.mu.Unlock()
		return
	}
	var hdr [5]byte
	hdr[0] = kind
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(p)))
	a.pending = append(append(a.pending, hdr[:]...), p...)
	a.mu.Unlock()
	select {
	case a.ready <- struct{}{}:
	default:
	}
}

// take returns what is pending and leaves spare, emptied, in its place,
// so two buffers serve the whole attachment.
func (a *attachment) take(spare []byte) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.pending
	a.pending = spare[:0]
	return out
}
