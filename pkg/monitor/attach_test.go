// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects an attachment's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// attachAsync runs Attach in the background; its result comes on the
// returned channel.
func (e *testEnv) attachAsync(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, resize <-chan TerminalSize) <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.client.Attach(ctx, id, stdin, stdout, stderr, resize) }()
	return done
}

// logHas tells whether the CRI log at path has a record of content. It
// polls a log still being written, so a last line caught half-written is
// left for the next call.
func logHas(t *testing.T, path, content string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range parseLog(t, data[:bytes.LastIndexByte(data, '\n')+1]) {
		if r.content == content {
			return true
		}
	}
	return false
}

func TestAttachStdin(t *testing.T) {
	e := newEnv(t)
	logPath := e.create(CreateRequest{ID: "reader", Stdin: true}, []string{"sh", "-c", "while read l; do echo got $l; done"})
	if _, err := e.client.Start(e.ctx(), "reader"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	var stdout, stderr syncBuffer
	done := e.attachAsync(ctx, "reader", pr, &stdout, &stderr, nil)
	if _, err := pw.Write([]byte("a\nb\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "attached output", func() bool { return stdout.String() == "got a\ngot b\n" })
	eventually(t, "the log", func() bool { return logHas(t, logPath, "got a") && logHas(t, logPath, "got b") })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("attach after cancel: %v", err)
	}
	// Without StdinOnce the end of an attachment leaves stdin open.
	if st, _ := e.client.State(e.ctx(), "reader"); st.Status != StatusRunning {
		t.Errorf("container after detach: %+v", st)
	}
	if stderr.String() != "" {
		t.Errorf("stderr %q", stderr.String())
	}
}

func TestAttachStdinOnce(t *testing.T) {
	e := newEnv(t)
	e.create(CreateRequest{ID: "once", Stdin: true, StdinOnce: true}, []string{"cat"})
	if _, err := e.client.Start(e.ctx(), "once"); err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	if err := e.client.Attach(e.ctx(), "once", strings.NewReader("hi\n"), &stdout, io.Discard, nil); err != nil {
		t.Fatal(err)
	}
	if got := stdout.String(); got != "hi\n" {
		t.Errorf("output %q", got)
	}
	if st := e.wait("once"); st.ExitCode != 0 {
		t.Errorf("exit %+v", st)
	}
}

func TestAttachTty(t *testing.T) {
	e := newEnv(t)
	e.create(CreateRequest{ID: "tty", Tty: true, Stdin: true}, []string{"sh"}, withTty)
	if _, err := e.client.Start(e.ctx(), "tty"); err != nil {
		t.Fatal(err)
	}
	var stdout syncBuffer
	// The terminal echoes the input: only the shell computes the 42.
	err := e.client.Attach(e.ctx(), "tty", strings.NewReader("echo tty-ok-$((6*7))\nexit\n"), &stdout, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "tty-ok-42") {
		t.Errorf("output %q", stdout.String())
	}
}

func TestAttachResize(t *testing.T) {
	e := newEnv(t)
	e.create(CreateRequest{ID: "resize", Tty: true, Stdin: true}, []string{"sh"}, withTty)
	if _, err := e.client.Start(e.ctx(), "resize"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	pr, pw := io.Pipe()
	defer pw.Close()
	resize := make(chan TerminalSize, 1)
	var stdout syncBuffer
	done := e.attachAsync(ctx, "resize", pr, &stdout, nil, resize)
	resize <- TerminalSize{Width: 120, Height: 40}
	// Stdin and resizes travel apart: ask again until the size shows.
	eventually(t, "the new size", func() bool {
		pw.Write([]byte("stty size\n"))
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(stdout.String(), "40 120")
	})
	pw.Write([]byte("exit\n"))
	if err := <-done; err != nil {
		t.Errorf("attach: %v", err)
	}
}

func TestAttachSeveral(t *testing.T) {
	e := newEnv(t)
	e.run("ticker", "i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done")
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	var out1, out2 syncBuffer
	done1 := e.attachAsync(ctx, "ticker", nil, &out1, nil, nil)
	done2 := e.attachAsync(ctx, "ticker", nil, &out2, nil, nil)
	eventually(t, "both attachments to get lines", func() bool {
		return strings.Count(out1.String(), "tick") >= 3 && strings.Count(out2.String(), "tick") >= 3
	})
	cancel()
	for _, done := range []<-chan error{done1, done2} {
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("attach after cancel: %v", err)
		}
	}
}

func TestAttachSlowClient(t *testing.T) {
	e := newEnv(t)
	// 4 MB, far beyond what the socket and the attachment's buffer hold,
	// then a marker; on a word from stdin, once the slow client is there.
	const lines = 64 * 1024
	logPath := e.create(CreateRequest{ID: "flood", Stdin: true}, []string{"sh", "-c",
		"read go; yes 0123456789012345678901234567890123456789012345678901234567890 | head -n 65536; echo flood-done; sleep 1000"})
	if _, err := e.client.Start(e.ctx(), "flood"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	// A client that never reads what it is sent: its first write blocks.
	pr, pw := io.Pipe()
	done := e.attachAsync(ctx, "flood", strings.NewReader("go\n"), pw, nil, nil)
	eventually(t, "the whole output to be logged", func() bool { return logHas(t, logPath, "flood-done") })
	if n := len(readLog(t, logPath)); n != lines+1 {
		t.Errorf("log has %d records, want %d", n, lines+1)
	}
	pr.Close() // the blocked write fails
	if err := <-done; !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("attach with a failed write: %v", err)
	}
}

func TestAttachErrors(t *testing.T) {
	e := newEnv(t)
	if err := e.client.Attach(e.ctx(), "nope", nil, io.Discard, io.Discard, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("attach to an unknown container: %v", err)
	}
	e.run("done", "true")
	e.wait("done")
	if err := e.client.Attach(e.ctx(), "done", nil, io.Discard, io.Discard, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("attach to an exited container: %v", err)
	}
	e.create(CreateRequest{ID: "created"}, []string{"true"})
	if err := e.client.Attach(e.ctx(), "created", nil, io.Discard, io.Discard, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("attach to a created container: %v", err)
	}
}

// Stdin for a container that has none is dropped, and the attach still
// gets the output, as `kubectl attach -i` expects of any running container.
func TestAttachStdinToAContainerWithout(t *testing.T) {
	e := newEnv(t)
	e.run("nostdin", "while true; do echo tick; usleep 100000; done")
	ctx, cancel := context.WithCancel(e.ctx())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- e.client.Attach(ctx, "nostdin", strings.NewReader("dropped\n"), out, io.Discard, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "tick") {
		select {
		case err := <-done:
			t.Fatalf("attach with stdin to a container without: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no output through an attach with stdin: %q", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client that falls behind costs the monitor a bounded buffer; only the
// final response may go past it.
func TestAttachmentBound(t *testing.T) {
	a := &attachment{ready: make(chan struct{}, 1)}
	chunk := make([]byte, 1000)
	for range 1000 {
		a.queue(frameStdout, chunk, false)
	}
	if n := len(a.pending); n > attachBuffer || n < attachBuffer-len(chunk)-5 {
		t.Errorf("pending %d bytes, bound %d", n, attachBuffer)
	}
	a.queue(frameResponse, []byte("{}"), true)
	buf := a.take(nil)
	if kind := buf[len(buf)-7]; kind != frameResponse {
		t.Errorf("last frame %q, want the response", kind)
	}
	if len(a.pending) != 0 {
		t.Errorf("pending after take: %d", len(a.pending))
	}
}
