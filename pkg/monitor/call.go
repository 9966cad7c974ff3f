// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// session is one call's connection. When ctx ends the connection is
// closed, which tells the monitor to give up too.
type session struct {
	ctx  context.Context
	conn net.Conn
	stop func() bool
	r    *bufio.Reader
}

// open dials the monitor socket at path and sends req.
func open(ctx context.Context, path string, req request) (*session, error) {
	var conn net.Conn
	err := withSockPath(path, func(p string) error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, "unix", p)
		return err
	})
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: %v", ErrNoMonitor, err)
		}
		return nil, ctxErr(ctx, err)
	}
	s := &session{ctx: ctx, conn: conn, r: bufio.NewReader(conn)}
	s.stop = context.AfterFunc(ctx, func() { conn.Close() })
	line, err := json.Marshal(req)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("encode request: %w", err)
	}
	if _, err := conn.Write(append(line, '\n')); err != nil {
		s.close()
		return nil, ctxErr(ctx, fmt.Errorf("send request: %w", err))
	}
	return s, nil
}

func (s *session) close() {
	s.stop()
	s.conn.Close()
}

// readErr explains a failed read: the caller's context, or a monitor that
// closed the connection without answering because it is exiting.
func (s *session) readErr(err error) error {
	if errors.Is(err, io.EOF) && s.ctx.Err() == nil {
		return fmt.Errorf("%w: connection closed", ErrNoMonitor)
	}
	return ctxErr(s.ctx, fmt.Errorf("read response: %w", err))
}

// call makes one call whose answer is a JSON line.
func call(ctx context.Context, path string, req request, resp *response) error {
	s, err := open(ctx, path, req)
	if err != nil {
		return err
	}
	defer s.close()
	line, err := s.r.ReadBytes('\n')
	if err != nil {
		return s.readErr(err)
	}
	if err := json.Unmarshal(line, resp); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// callExec makes an exec call: output frames up to the response frame.
func callExec(ctx context.Context, path string, req request, resp *response) (stdout, stderr []byte, err error) {
	s, err := open(ctx, path, req)
	if err != nil {
		return nil, nil, err
	}
	defer s.close()
	buf := make([]byte, frameChunk)
	for {
		kind, payload, err := readFrame(s.r, buf)
		if err != nil {
			return nil, nil, s.readErr(err)
		}
		switch kind {
		case frameStdout:
			stdout = append(stdout, payload...)
		case frameStderr:
			stderr = append(stderr, payload...)
		case frameResponse:
			if err := json.Unmarshal(payload, resp); err != nil {
				return nil, nil, fmt.Errorf("decode response: %w", err)
			}
			return stdout, stderr, nil
		default:
			return nil, nil, fmt.Errorf("unknown frame %q", kind)
		}
	}
}

// ctxErr prefers the context's own error, so callers can test for
// context.Canceled or DeadlineExceeded.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// remoteError is an error the monitor reported, unwrapping to the
// sentinel its kind names.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

func (r *response) err() error {
	if r.Error == "" {
		return nil
	}
	e := &remoteError{msg: r.Error}
	switch r.Kind {
	case kindNotFound:
		e.kind = ErrNotFound
	case kindDeadline:
		e.kind = context.DeadlineExceeded
	case kindShutdown:
		e.kind = ErrShuttingDown
	case kindNotRunning:
		e.kind = ErrNotRunning
	case kindNoStdin:
		e.kind = ErrNoStdin
	}
	return e
}
