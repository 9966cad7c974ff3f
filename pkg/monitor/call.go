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

// call makes one call on the monitor socket at path: dial, send req, read
// the response line into resp and return the raw payload after it. When
// ctx ends the connection is closed, which tells the monitor to give up
// too.
func call(ctx context.Context, path string, req request, resp *response) ([]byte, error) {
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
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	if _, err := conn.Write(append(line, '\n')); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("send request: %w", err))
	}
	br := bufio.NewReader(conn)
	line, err = br.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) && ctx.Err() == nil {
			// The monitor closed without answering: it is exiting.
			return nil, fmt.Errorf("%w: connection closed", ErrNoMonitor)
		}
		return nil, ctxErr(ctx, fmt.Errorf("read response: %w", err))
	}
	if err := json.Unmarshal(line, resp); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	n := resp.StdoutLen + resp.StderrLen
	if n <= 0 {
		return nil, nil
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("read output: %w", err))
	}
	return payload, nil
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
	}
	return e
}
