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
	"os"
	"sync"
	"time"
)

// server answers the client's calls, one connection per call.
type server struct {
	m        *monitor
	l        *net.UnixListener
	inflight sync.WaitGroup
}

// serve accepts calls until the listener is closed.
func (s *server) serve() {
	for {
		conn, err := s.l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and the like: back off rather than spin.
			fmt.Fprintf(os.Stderr, "monitor: accept: %v\n", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			s.handle(conn)
		}()
	}
}

// drain waits, a bounded time, for calls in flight to be answered before
// the monitor exits.
func (s *server) drain(timeout time.Duration) {
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
	}
}

func (s *server) handle(conn *net.UnixConn) {
	defer conn.Close()
	br := bufio.NewReaderSize(io.LimitReader(conn, maxRequest), 1024)
	line, err := br.ReadBytes('\n')
	if err != nil {
		return
	}
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		writeResponse(conn, response{Error: "bad request: " + err.Error()})
		return
	}
	if req.Op == opAttach {
		// The client goes on sending frames: stdin, its end, resizes.
		s.attach(conn, attachInput(br, conn), req)
		return
	}
	// The client sends nothing after its request: any read returning
	// means it closed the connection, which cancels the call.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		var b [1]byte
		conn.Read(b[:])
		cancel()
	}()
	if req.Op == opExec {
		s.exec(ctx, conn, req)
		return
	}
	writeResponse(conn, s.dispatch(ctx, req))
}

// exec streams the exec's output in frames, then the response in a last
// frame.
func (s *server) exec(ctx context.Context, conn *net.UnixConn, req request) {
	out := &frameWriter{w: conn}
	code, err := s.m.execSync(ctx, req, out)
	resp := response{ExitCode: code}
	if err != nil {
		resp = errorResponse(err)
	}
	out.frame(frameResponse, encodeResponse(resp))
}

// encodeResponse is the JSON of a response frame.
func encodeResponse(resp response) []byte {
	line, err := json.Marshal(resp)
	if err != nil {
		line, _ = json.Marshal(response{Error: "encode response: " + err.Error()})
	}
	return line
}

func (s *server) dispatch(ctx context.Context, req request) (resp response) {
	m := s.m
	var err error
	switch req.Op {
	case opPing:
		resp.Pid = os.Getpid()
	case opCreate:
		resp.Pid, err = m.create(req)
	case opStart:
		resp.Time, err = m.start(req.ID)
	case opKill:
		err = m.kill(req.ID, req.Signal, req.All)
	case opState:
		var st State
		st, err = m.state(req.ID)
		resp.State = &st
	case opWait:
		var st State
		st, err = m.wait(ctx, req.ID)
		resp.State = &st
	case opDelete:
		err = m.delete(req.ID)
	case opReopen:
		err = m.reopenLog(req.ID)
	case opShutdown:
		m.requestShutdown()
		select {
		case <-m.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	default:
		err = fmt.Errorf("unknown operation %q", req.Op)
	}
	if err != nil {
		return errorResponse(err)
	}
	return resp
}

func errorResponse(err error) response {
	resp := response{Error: err.Error()}
	switch {
	case errors.Is(err, ErrNotFound):
		resp.Kind = kindNotFound
	case errors.Is(err, errExecTimeout):
		resp.Kind = kindDeadline
	case errors.Is(err, ErrShuttingDown):
		resp.Kind = kindShutdown
	case errors.Is(err, ErrNotRunning):
		resp.Kind = kindNotRunning
	case errors.Is(err, ErrNoStdin):
		resp.Kind = kindNoStdin
	}
	return resp
}

// writeResponse writes the response as one JSON line.
func writeResponse(conn *net.UnixConn, resp response) {
	line, err := json.Marshal(resp)
	if err != nil {
		line, _ = json.Marshal(response{Error: "encode response: " + err.Error()})
	}
	conn.Write(append(line, '\n'))
}
