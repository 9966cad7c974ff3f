// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// An attach connects a client to a running container's stdio. After the
// request line the connection carries frames both ways: from the client
// stdin data, the end of stdin and terminal sizes; from the monitor the
// container's output from then on, and a last response frame once the
// container exited (its state) or the attach failed (the error). Either
// side ends it by closing the connection.
//
// The output reaches the client through a bounded queue (see fanout.go),
// so neither the container nor its log ever waits for a client. Stdin is
// not dropped: a container that does not read it holds the client back.

// attachInput is the rest of an attach connection: what the request
// reader already buffered, then the connection itself, with no limit
// (stdin has no size bound, unlike a request).
func attachInput(br *bufio.Reader, conn net.Conn) io.Reader {
	rest, _ := br.Peek(br.Buffered())
	if len(rest) == 0 {
		return conn
	}
	return io.MultiReader(bytes.NewReader(bytes.Clone(rest)), conn)
}

// attach serves one attachment until the container exits, its stdio is
// released, or the client goes away.
func (s *server) attach(conn *net.UnixConn, in io.Reader, req request) {
	c, a, withStdin, err := s.m.attachTo(req)
	if err != nil {
		out := &frameWriter{w: conn}
		out.frame(frameResponse, encodeResponse(errorResponse(err)))
		return
	}
	defer c.attached.remove(a)

	// ctx ends when the client closed the connection or stopped taking
	// output.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop, written := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(written)
		a.writeTo(conn, stop, cancel)
	}()
	// The reader is not waited for: it may be blocked writing stdin the
	// container does not read, until the container reads or exits.
	go c.readAttachInput(in, withStdin, cancel)

	flush := execFlushTimeout
	select {
	case <-c.exited:
		// The log writers are done (or gave up): all output is queued.
		c.attached.remove(a)
		st := c.snapshot()
		a.queue(frameResponse, encodeResponse(response{State: &st, ExitCode: st.ExitCode}), true)
	case <-c.attached.done():
		err := fmt.Errorf("attach to %s: %w: its stdio was released", req.ID, ErrNotRunning)
		a.queue(frameResponse, encodeResponse(errorResponse(err)), true)
	case <-ctx.Done():
		flush = 0 // nobody is listening
	}
	// A client that stopped reading must not hold the attach open.
	conn.SetWriteDeadline(time.Now().Add(flush))
	close(stop)
	<-written
}

// attachTo checks that req may attach to its container and registers the
// attachment. withStdin tells whether the client's stdin goes to the
// container: not when it was created without stdin, or its StdinOnce
// stdin was closed already. The attach still gets the output then, and
// its stdin is dropped, as the reference runtime does: `kubectl attach -i`
// works on any running container, and a re-attach after the first
// session of `kubectl run -i` ended shows the output.
func (m *monitor) attachTo(req request) (c *container, a *attachment, withStdin bool, err error) {
	c, err = m.lookup(req.ID)
	if err != nil {
		return nil, nil, false, err
	}
	if st := c.snapshot(); st.Status != StatusRunning || c.hasExited() {
		return nil, nil, false, fmt.Errorf("attach to %s: container is %s: %w", req.ID, st.Status, ErrNotRunning)
	}
	withStdin = req.Stdin && c.withStdin && !c.stdinClosed.Load()
	a = c.attached.add()
	if a == nil {
		return nil, nil, false, fmt.Errorf("attach to %s: %w: its stdio was released", req.ID, ErrNotRunning)
	}
	return c, a, withStdin, nil
}

// writeTo writes the attachment's frames to w as they are queued, and
// what is left once stop is closed. A failed write calls failed and ends
// it; the queue then only fills up to its bound until it is removed.
func (a *attachment) writeTo(w io.Writer, stop <-chan struct{}, failed func()) {
	var spare []byte
	for stopped := false; !stopped; {
		select {
		case <-a.ready:
		case <-stop:
			stopped = true
		}
		buf := a.take(spare)
		if len(buf) > 0 {
			if _, err := w.Write(buf); err != nil {
				failed()
				return
			}
		}
		spare = buf
	}
}

// readAttachInput applies what the client sends until it closes the
// connection, then calls gone. A client that brought stdin and leaves
// without ending it ends it by leaving: with StdinOnce that closes the
// container's stdin as an end-of-stdin frame would.
func (c *container) readAttachInput(in io.Reader, withStdin bool, gone func()) {
	defer gone()
	ended := !withStdin
	var buf []byte
	for {
		kind, p, err := readFrameMax(in, buf, frameChunk)
		if err != nil {
			if !ended {
				c.endStdin()
			}
			return
		}
		buf = p
		switch kind {
		case frameStdin:
			if !ended && c.writeStdin(p) != nil {
				ended = true // closed by another attachment's end
			}
		case frameStdinEOF:
			if !ended {
				ended = true
				c.endStdin()
			}
		case frameResize:
			if len(p) == 4 {
				c.resize(binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]))
			}
		}
	}
}

// writeStdin writes to the container's stdin: its pipe, or its terminal.
// os.File serializes whole writes, so several attachments' input does not
// interleave within a frame.
func (c *container) writeStdin(p []byte) error {
	f := c.stdin
	if c.console != nil {
		f = c.console
	}
	_, err := f.Write(p)
	return err
}

// endStdin closes the container's stdin if it was created StdinOnce, so a
// program reading it to the end (cat) finishes; otherwise it stays open
// for a later attach. A terminal cannot be closed for input alone: it is
// sent the end-of-file character (^D), which a program reading lines in
// canonical mode, a shell or cat, takes as the end.
func (c *container) endStdin() {
	if !c.stdinOnce || c.stdinClosed.Swap(true) {
		return
	}
	if c.console != nil {
		c.console.Write([]byte{4})
		return
	}
	if c.stdin != nil {
		c.stdin.Close()
	}
}

// resize sets the terminal's size; the kernel tells the foreground
// process with SIGWINCH. Without a tty there is nothing to resize.
func (c *container) resize(width, height uint16) {
	if c.console == nil {
		return
	}
	// Not Fd(): it would put the master in blocking mode, out of the
	// runtime poller the log writer relies on.
	rc, err := c.console.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: height, Col: width})
	})
}
