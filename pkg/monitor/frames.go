// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// An exec's output is not collected in the monitor: it is streamed to the
// client as it comes, in frames, so the monitor's memory stays the same
// whatever an exec prints. A frame is a kind byte, a big-endian uint32
// length and the payload. The kinds are stdout and stderr data, then one
// final response frame holding the JSON response.
//
// An attach also uses them from the client to the monitor: stdin data, the
// end of stdin, and a terminal size (width and height, big-endian uint16).
const (
	frameStdout   = '1'
	frameStderr   = '2'
	frameResponse = 'R'
	frameStdin    = '0'
	frameStdinEOF = 'E'
	frameResize   = 'W'

	frameChunk = 32 * 1024 // largest data payload
)

// defaultMaxOutput caps exec output when the caller sets no cap: the
// kubelet's own limit for ExecSync.
const defaultMaxOutput = 16 << 20

// frameWriter serializes frames of both streams onto the connection.
// After a write error (the client left) frames are dropped, and the
// output is still drained so the process never blocks on a full pipe.
type frameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	hdr [5]byte
	err error
}

func (f *frameWriter) frame(kind byte, p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return
	}
	f.hdr[0] = kind
	binary.BigEndian.PutUint32(f.hdr[1:], uint32(len(p)))
	if _, err := f.w.Write(f.hdr[:]); err != nil {
		f.err = err
		return
	}
	if _, err := f.w.Write(p); err != nil {
		f.err = err
	}
}

// forward streams what r delivers as frames of one kind, up to max bytes,
// and reads and drops the rest, so a flooding process can fill neither
// the monitor's memory nor the client's.
func forward(r *os.File, kind byte, max int, out *frameWriter, done chan<- struct{}) {
	defer close(done)
	chunk := make([]byte, frameChunk)
	sent := 0
	for {
		n, err := r.Read(chunk)
		if room := max - sent; n > 0 && room > 0 {
			n = min(n, room)
			out.frame(kind, chunk[:n])
			sent += n
		}
		if err != nil {
			return
		}
	}
}

// expire bounds the time left for writing frames. Once the process is
// gone, a client that stopped reading must not hold the exec open.
func (f *frameWriter) expire(after time.Duration) {
	if d, ok := f.w.(interface{ SetWriteDeadline(time.Time) error }); ok {
		d.SetWriteDeadline(time.Now().Add(after))
	}
}

// readFrame reads one frame's header and payload into buf (grown as
// needed, reused by the caller).
func readFrame(r io.Reader, buf []byte) (kind byte, payload []byte, err error) {
	return readFrameMax(r, buf, maxRequest)
}

// readFrameMax is readFrame refusing payloads over max bytes, so that what
// a client sends can never grow the monitor's buffer beyond it.
func readFrameMax(r io.Reader, buf []byte, max int) (kind byte, payload []byte, err error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}
