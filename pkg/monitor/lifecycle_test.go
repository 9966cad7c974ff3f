// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ticker prints a numbered line every 20 ms.
const ticker = "i=0; while true; do echo tick $i; i=$((i+1)); usleep 20000; done"

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func TestReopenLog(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("rotate", ticker)
	eventually(t, "first lines", func() bool { return fileSize(logPath) > 0 })
	rotated := logPath + ".1"
	if err := os.Rename(logPath, rotated); err != nil {
		t.Fatal(err)
	}
	if err := e.client.ReopenLog(e.ctx(), "rotate"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lines in the new file", func() bool { return fileSize(logPath) > 0 })
	// The rotated file no longer grows.
	size := fileSize(rotated)
	time.Sleep(100 * time.Millisecond)
	if fileSize(rotated) != size {
		t.Error("the rotated log still grows")
	}
	// Both files hold whole records, and the new one continues the count.
	old, cur := readLog(t, rotated), readLog(t, logPath)
	if len(old) == 0 || len(cur) == 0 {
		t.Fatalf("%d old records, %d new", len(old), len(cur))
	}
	lastOld, _ := strconv.Atoi(strings.TrimPrefix(old[len(old)-1].content, "tick "))
	firstNew, _ := strconv.Atoi(strings.TrimPrefix(cur[0].content, "tick "))
	if firstNew != lastOld+1 {
		t.Errorf("old file ends at %d, new starts at %d", lastOld, firstNew)
	}

	if err := e.client.Kill(e.ctx(), "rotate", 9, false); err != nil {
		t.Fatal(err)
	}
	e.wait("rotate")
	if err := e.client.ReopenLog(e.ctx(), "rotate"); err == nil {
		t.Error("ReopenLog of an exited container succeeded")
	}
}

// The daemon may go away at any moment: dropping the client (as a kill -9
// of the daemon would) leaves the container running and logging, and a
// new client finds it.
func TestSurvivesClient(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("survivor", ticker)
	// A Wait in flight when the client goes away is abandoned, not fatal.
	ctx, cancel := context.WithCancel(context.Background())
	waitErr := make(chan error, 1)
	go func() {
		_, err := e.client.Wait(ctx, "survivor")
		waitErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-waitErr; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned wait: %v", err)
	}
	e.client.Close()
	if _, err := e.client.State(e.ctx(), "survivor"); err == nil {
		t.Error("a closed client still works")
	}

	size := fileSize(logPath)
	eventually(t, "the log to grow without a client", func() bool { return fileSize(logPath) > size })
	c, err := Connect(e.ctx(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Pid() != e.client.Pid() {
		t.Errorf("reconnected to monitor %d, started %d", c.Pid(), e.client.Pid())
	}
	st, err := c.State(e.ctx(), "survivor")
	if err != nil || st.Status != StatusRunning {
		t.Fatalf("state after reconnect: %+v %v", st, err)
	}
	size = fileSize(logPath)
	eventually(t, "the log to grow", func() bool { return fileSize(logPath) > size })
}

// An exit while no client is connected is recorded, and ReadExit finds it
// without the monitor.
func TestExitWithoutClient(t *testing.T) {
	e := newEnv(t)
	e.create(CreateRequest{ID: "lonely"}, []string{"sh", "-c", "usleep 300000; exit 4"})
	if _, err := e.client.Start(e.ctx(), "lonely"); err != nil {
		t.Fatal(err)
	}
	e.client.Close()
	if _, ok, _ := ReadExit(e.dir, "lonely"); ok {
		t.Fatal("exit recorded before the container exited")
	}
	var st State
	eventually(t, "the exit record", func() bool {
		var ok bool
		st, ok, _ = ReadExit(e.dir, "lonely")
		return ok
	})
	if st.ExitCode != 4 || st.Reason != ReasonError || st.StartedAt.IsZero() || st.FinishedAt.IsZero() {
		t.Errorf("record: %+v", st)
	}
	c, err := Connect(e.ctx(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.State(e.ctx(), "lonely"); err != nil || got != st {
		t.Errorf("state %+v (%v), record %+v", got, err, st)
	}
}

func TestStdin(t *testing.T) {
	e := newEnv(t)
	// cat exits on EOF: without stdin at once, with stdin held open never.
	e.create(CreateRequest{ID: "closed"}, []string{"cat"})
	e.create(CreateRequest{ID: "open", Stdin: true}, []string{"cat"})
	for _, id := range []string{"closed", "open"} {
		if _, err := e.client.Start(e.ctx(), id); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.wait("closed"); st.ExitCode != 0 {
		t.Errorf("cat without stdin: %+v", st)
	}
	if st, _ := e.client.State(e.ctx(), "open"); st.Status != StatusRunning {
		t.Errorf("cat with stdin: %+v", st)
	}
}

func TestShutdown(t *testing.T) {
	e := newEnv(t)
	e.run("busy", "sleep 1000")
	e.run("done", "exit 2")
	e.wait("done")

	// A running container keeps the monitor up.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.client.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with a running container: %v", err)
	}
	if _, err := e.client.Create(e.ctx(), CreateRequest{ID: "late", Bundle: e.bundle("late", []string{"true"})}); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("create after shutdown: %v", err)
	}
	// The exited container was cleaned up by the monitor itself, its
	// record kept for the daemon.
	eventually(t, "the exited container to be released", func() bool {
		_, err := e.client.State(e.ctx(), "done")
		return errors.Is(err, ErrNotFound)
	})
	if st, ok, _ := ReadExit(e.dir, "done"); !ok || st.ExitCode != 2 {
		t.Errorf("record of the released container: %+v %v", st, ok)
	}
	if _, err := os.Stat(filepath.Join(testRuncRoot, "done")); !os.IsNotExist(err) {
		t.Errorf("runc state of the released container: %v", err)
	}
	select {
	case <-e.client.Exited():
		t.Fatal("monitor exited with a container running")
	default:
	}

	// Deleting the last container ends the monitor.
	if err := e.client.Delete(e.ctx(), "busy"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.client.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("monitor did not exit")
	}
	if _, err := os.Stat(filepath.Join(e.dir, socketName)); !os.IsNotExist(err) {
		t.Errorf("socket left: %v", err)
	}
	if _, err := Connect(e.ctx(), e.dir); !errors.Is(err, ErrNoMonitor) {
		t.Errorf("connect after exit: %v", err)
	}
	e.ids = nil
}

// The monitor's resident memory with one running container, for the
// per-pod budget: while the container logs a line every 20 ms, then after
// it logged 20 MB and an exec printed 20 MB. The test binary links far
// more than the monitor needs, so this is an upper bound;
// PODSHIM_MONITOR_BINARY measures another binary.
func TestMonitorRSS(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("rss", "until [ -e /tmp/flood ]; do echo tick; usleep 20000; done; "+
		"yes 'a log line' | head -c 20000000; exec sleep 1000")
	eventually(t, "output", func() bool { return fileSize(logPath) > 0 })
	time.Sleep(500 * time.Millisecond)
	t.Logf("monitor %d, one container: %s", e.client.Pid(), memory(t, e.client.Pid()))

	if _, err := e.client.ExecSync(e.ctx(), "rss", execProcess("touch", "/tmp/flood"), time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	eventually(t, "20 MB of log", func() bool { return fileSize(logPath) > 20000000 })
	_, err := e.client.ExecSync(e.ctx(), "rss", execProcess("sh", "-c", "yes | head -c 10000000; yes | head -c 10000000 >&2"), time.Minute, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	t.Logf("monitor %d, after 20 MB of log and of exec output: %s", e.client.Pid(), memory(t, e.client.Pid()))
}

// memory reports a process's resident memory from /proc/<pid>/status.
func memory(t *testing.T, pid int) string {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var report []string
	for _, line := range strings.Split(string(status), "\n") {
		for _, key := range []string{"VmRSS:", "RssAnon:", "RssFile:", "Threads:"} {
			if strings.HasPrefix(line, key) {
				report = append(report, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return strings.Join(report, ", ")
}
