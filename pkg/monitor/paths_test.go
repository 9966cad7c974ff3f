// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A pod directory too deep for a unix socket address still works: the
// monitor socket is reached through /proc/self/fd and runc's console
// socket moves to a temporary directory.
func TestLongPaths(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	if len(filepath.Join(deep, socketName)) <= maxSockPath {
		t.Fatal("path not long enough to test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, StartOptions{Self: os.Args[0], Dir: deep, Runc: testRunc, RuncRoot: testRuncRoot})
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, dir: deep, logDir: t.TempDir(), client: c}
	t.Cleanup(func() { e.cleanup(c) })

	// Starting again finds the running monitor.
	again, err := Start(ctx, StartOptions{Self: os.Args[0], Dir: deep, Runc: testRunc, RuncRoot: testRuncRoot})
	if err != nil || again.Pid() != c.Pid() {
		t.Fatalf("second Start: %v, pid %d, want %d", err, again.Pid(), c.Pid())
	}

	logPath := e.create(CreateRequest{ID: "tty-deep", Tty: true}, []string{"echo", "deep"}, withTty)
	if _, err := c.Start(ctx, "tty-deep"); err != nil {
		t.Fatal(err)
	}
	e.wait("tty-deep")
	if recs := readLog(t, logPath); len(recs) != 1 || recs[0].content != "deep" {
		t.Errorf("records: %+v", recs)
	}
	if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "podshim-console-*")); len(left) > 0 {
		t.Errorf("console socket directories left: %v", left)
	}
}

// A failed create returns runc's reason and leaves nothing: no runc
// state, no records, the monitor ready for the next container.
func TestCreateFailure(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle("broken", []string{"/no/such/binary"})
	logPath := filepath.Join(e.logDir, "broken.log")
	_, err := e.client.Create(e.ctx(), CreateRequest{ID: "broken", Bundle: bundle, LogPath: logPath})
	if err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("create: %v, want runc's reason", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "broken")); !os.IsNotExist(err) {
		t.Errorf("records left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(testRuncRoot, "broken")); !os.IsNotExist(err) {
		t.Errorf("runc state left: %v", err)
	}
	// The same id can be used again.
	e.run("broken", "true")
	if st := e.wait("broken"); st.ExitCode != 0 {
		t.Errorf("exit: %+v", st)
	}
}
