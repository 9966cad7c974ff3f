// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"time"
)

// The CRI log format, one record per line:
//
//	2006-01-02T15:04:05.999999999Z07:00 stdout F the line
//
// F closes a line; P marks a piece of one: a line longer than maxLogLine
// is cut into P pieces and a final F, and output that ends without a
// newline (at exit) is written as P.

const (
	maxLogLine = 16 * 1024
	// flushAt bounds the batch of records built from one read: a read of
	// many tiny lines grows by a header per line.
	flushAt = 32 * 1024
)

var (
	tagFull    = []byte("F")
	tagPartial = []byte("P")
)

// criWriter turns one stream of a container into CRI log records. Its
// buffers are allocated once and reused for every record.
type criWriter struct {
	stream string
	log    *logFile
	in     []byte // pending input; room for a longest line plus "\r\n"
	out    []byte // records built but not yet written
}

func newCRIWriter(stream string, log *logFile) *criWriter {
	return &criWriter{stream: stream, log: log, in: make([]byte, maxLogLine+2), out: make([]byte, 0, 4096)}
}

// copyFrom logs everything read from src until EOF or a read error. A
// terminal's master reports EIO once the last slave holder is gone; that
// is its EOF.
func (w *criWriter) copyFrom(src io.Reader) {
	n := 0
	for {
		r, err := src.Read(w.in[n:])
		n += r
		n = w.consume(n)
		if err != nil {
			if n > 0 {
				w.record(tagPartial, w.in[:n])
			}
			w.flush()
			if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.EIO) && !errors.Is(err, os.ErrClosed) {
				os.Stderr.WriteString("monitor: read " + w.stream + ": " + err.Error() + "\n")
			}
			return
		}
	}
}

// consume writes the complete lines in w.in[:n], and a P piece if the
// pending rest is already longer than a line may be; it moves what is
// left to the front and returns its length.
func (w *criWriter) consume(n int) int {
	start := 0
	for {
		i := bytes.IndexByte(w.in[start:n], '\n')
		if i < 0 {
			break
		}
		line := w.in[start : start+i]
		line = bytes.TrimSuffix(line, []byte{'\r'})
		for len(line) > maxLogLine {
			w.record(tagPartial, line[:maxLogLine])
			line = line[maxLogLine:]
		}
		w.record(tagFull, line)
		start += i + 1
	}
	rest := w.in[start:n]
	if len(rest) > maxLogLine {
		w.record(tagPartial, rest[:maxLogLine])
		rest = rest[maxLogLine:]
	}
	w.flush()
	return copy(w.in, rest)
}

// record appends one record to the batch, writing the batch out first if
// it is large.
func (w *criWriter) record(tag, content []byte) {
	if len(w.out) > 0 && len(w.out)+len(content) > flushAt {
		w.flush()
	}
	w.out = time.Now().AppendFormat(w.out, time.RFC3339Nano)
	w.out = append(w.out, ' ')
	w.out = append(w.out, w.stream...)
	w.out = append(w.out, ' ')
	w.out = append(w.out, tag...)
	w.out = append(w.out, ' ')
	w.out = append(w.out, content...)
	w.out = append(w.out, '\n')
}

func (w *criWriter) flush() {
	if len(w.out) == 0 {
		return
	}
	w.log.write(w.out)
	w.out = w.out[:0]
}
