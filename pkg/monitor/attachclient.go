// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// TerminalSize is the size of a tty container's terminal, in characters.
type TerminalSize struct {
	Width, Height uint16
}

// Attach connects to a running container's stdio, as CRI Attach does.
// Output the container writes from now on is copied to stdout and stderr
// (with a tty, all of it to stdout; a nil writer drops its stream), in
// addition to the CRI log. Input read from stdin, if not nil, is written
// to the container's stdin; when it ends and the container was created
// StdinOnce, the container's stdin is closed (a tty is sent ^D instead),
// else it stays open for a later attach. Sizes received from resize are
// applied to a tty container's terminal.
//
// Attach returns nil when the container exits, after its remaining output
// was written; an error when ctx ends or a write to stdout or stderr
// fails. The container never waits for a slow caller: output that does
// not fit the monitor's bounded buffer for this attachment is lost for it.
// Attach does not wait for a Read of stdin in progress to return.
//
// Stdin given to a container without one (or whose StdinOnce stdin was
// closed) is read and dropped. Errors wrap ErrNotFound for an unknown
// container, ErrNotRunning if it is not running.
func (c *Client) Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) error {
	if c.closed.Load() {
		return errors.New("monitor client is closed")
	}
	s, err := open(ctx, c.sock, request{Op: opAttach, ID: id, Stdin: stdin != nil})
	if err != nil {
		return fmt.Errorf("monitor attach: %w", err)
	}
	defer s.close()
	out := &frameWriter{w: s.conn}
	done := make(chan struct{})
	defer close(done)
	if stdin != nil {
		go sendStdin(stdin, out, done)
	}
	if resize != nil {
		go sendResizes(resize, out, done)
	}

	buf := make([]byte, frameChunk)
	for {
		kind, payload, err := readFrame(s.r, buf)
		if err != nil {
			return fmt.Errorf("monitor attach: %w", s.readErr(err))
		}
		var w io.Writer
		switch kind {
		case frameStdout:
			w = stdout
		case frameStderr:
			w = stderr
		case frameResponse:
			var resp response
			if err := json.Unmarshal(payload, &resp); err != nil {
				return fmt.Errorf("monitor attach: decode response: %w", err)
			}
			if err := resp.err(); err != nil {
				return fmt.Errorf("monitor attach: %w", err)
			}
			return nil
		default:
			return fmt.Errorf("monitor attach: unknown frame %q", kind)
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(payload); err != nil {
			return fmt.Errorf("attach to %s: write output: %w", id, err)
		}
	}
}

// sendStdin sends stdin in frames, then its end if it reached EOF. A read
// error sends no end: the attachment's end stands for it.
func sendStdin(r io.Reader, out *frameWriter, done <-chan struct{}) {
	buf := make([]byte, frameChunk)
	for {
		n, err := r.Read(buf)
		select {
		case <-done:
			return // the attach is over: what was read is not for it
		default:
		}
		if n > 0 {
			out.frame(frameStdin, buf[:n])
		}
		if errors.Is(err, io.EOF) {
			out.frame(frameStdinEOF, nil)
		}
		if err != nil {
			return
		}
	}
}

func sendResizes(resize <-chan TerminalSize, out *frameWriter, done <-chan struct{}) {
	var p [4]byte
	for {
		select {
		case size, ok := <-resize:
			if !ok {
				return
			}
			binary.BigEndian.PutUint16(p[:], size.Width)
			binary.BigEndian.PutUint16(p[2:], size.Height)
			out.frame(frameResize, p[:])
		case <-done:
			return
		}
	}
}
