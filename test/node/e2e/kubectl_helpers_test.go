// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// syncBuffer is a buffer a stream's copier writes while the test reads.
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

// stream is a kubectl command left running: logs -f, attach, exec,
// port-forward. Its output is collected as it comes.
type stream struct {
	t      *testing.T
	what   string
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error // set before done closes
	cancel context.CancelFunc
	// For a stream on a terminal: the pseudo-terminal's master side, which
	// is both the input and the output.
	pty *os.File
}

// startKubectl starts kubectl in the namespace. stdin, when not nil, is a
// pipe the test writes (close it for EOF); ended by the test's cleanup if
// still running.
func (n *ns) startKubectl(withStdin bool, args ...string) (*stream, io.WriteCloser) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := node.KubectlCommand(ctx, append([]string{"-n", n.name}, args...)...)
	s := &stream{t: n.t, what: "kubectl " + strings.Join(args, " "), cmd: cmd, done: make(chan struct{}), cancel: cancel}
	cmd.Stdout = &s.stdout
	cmd.Stderr = &s.stderr
	var in io.WriteCloser
	if withStdin {
		var err error
		if in, err = cmd.StdinPipe(); err != nil {
			cancel()
			n.t.Fatal(err)
		}
	}
	if err := cmd.Start(); err != nil {
		cancel()
		n.t.Fatalf("start %s: %v", s.what, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	n.t.Cleanup(s.stop)
	return s, in
}

// startKubectlTTY starts kubectl in the namespace on a pseudo-terminal of
// rows x cols, as a user's shell would: its stdin, stdout and stderr are
// the terminal, which is also its controlling terminal.
func (n *ns) startKubectlTTY(rows, cols uint16, args ...string) *stream {
	n.t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		n.t.Fatalf("pseudo-terminal: %v", err)
	}
	defer slave.Close()
	if err := setWinsize(master, rows, cols); err != nil {
		master.Close()
		n.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := node.KubectlCommand(ctx, append([]string{"-n", n.name}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	s := &stream{t: n.t, what: "kubectl " + strings.Join(args, " ") + " (on a terminal)", cmd: cmd, done: make(chan struct{}), cancel: cancel, pty: master}
	if err := cmd.Start(); err != nil {
		cancel()
		master.Close()
		n.t.Fatalf("start %s: %v", s.what, err)
	}
	copied := make(chan struct{})
	go func() {
		// Ends with EIO once every holder of the terminal's slave side
		// (kubectl alone, after the deferred close above) has gone.
		_, _ = io.Copy(&s.stdout, master)
		close(copied)
	}()
	go func() {
		s.err = cmd.Wait()
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		close(s.done)
	}()
	n.t.Cleanup(func() {
		s.stop()
		master.Close()
	})
	return s
}

// stop ends the command if it still runs and waits for it.
func (s *stream) stop() {
	s.cancel()
	<-s.done
}

// output is what the command wrote to stdout (or its terminal) so far.
func (s *stream) output() string { return s.stdout.String() }

// waitOutput polls the command's output until cond accepts it.
func (s *stream) waitOutput(timeout time.Duration, what string, cond func(out string) error) string {
	s.t.Helper()
	var out string
	eventually(s.t, timeout, s.what+": "+what, func() error {
		out = s.output()
		if err := cond(out); err != nil {
			select {
			case <-s.done:
				return fmt.Errorf("%w (the command has ended: %v; stderr %q)", err, s.err, s.stderr.String())
			default:
			}
			return err
		}
		return nil
	})
	return out
}

// waitContains waits until the command's output contains want.
func (s *stream) waitContains(timeout time.Duration, want string) string {
	s.t.Helper()
	return s.waitOutput(timeout, fmt.Sprintf("output containing %q", want), func(out string) error {
		if !strings.Contains(out, want) {
			return fmt.Errorf("output so far %q", tail(out, 400))
		}
		return nil
	})
}

// wait waits for the command to end by itself and returns its error.
func (s *stream) wait(timeout time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(timeout):
		s.t.Fatalf("%s still runs after %v; output %q, stderr %q", s.what, timeout, tail(s.output(), 400), s.stderr.String())
		return nil
	}
}

// ended reports whether the command has ended.
func (s *stream) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// typeIn writes to the command's terminal, as a user types.
func (s *stream) typeIn(text string) {
	s.t.Helper()
	if _, err := s.pty.WriteString(text); err != nil {
		s.t.Fatalf("%s: type %q: %v", s.what, text, err)
	}
}

// resize changes the terminal's size, as a user resizing the window.
func (s *stream) resize(rows, cols uint16) {
	s.t.Helper()
	if err := setWinsize(s.pty, rows, cols); err != nil {
		s.t.Fatal(err)
	}
}

// tail is the end of s, for messages.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// exitCode is the exit status of a command that ran, or -1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// runKubectl runs kubectl in the namespace to its end and returns its
// stdout, stderr and exit status: -1, with the reason in stderr, when it
// could not run or was ended by its 2-minute timeout. It does not fail the
// test itself, so goroutines may call it.
func (n *ns) runKubectl(stdin io.Reader, args ...string) (stdout, stderr string, code int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := node.KubectlCommand(ctx, append([]string{"-n", n.name}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &o, &e
	err := cmd.Run()
	code = exitCode(err)
	if code < 0 {
		fmt.Fprintf(&e, "\nkubectl %s: %v", strings.Join(args, " "), err)
	}
	return o.String(), e.String(), code
}

// openPTY opens a new pseudo-terminal pair on the node's /dev/pts.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	num, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pty number: %w", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(num)), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

func setWinsize(f *os.File, rows, cols uint16) error {
	ws := &unix.Winsize{Row: rows, Col: cols}
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("set terminal size: %w", err)
	}
	return nil
}
