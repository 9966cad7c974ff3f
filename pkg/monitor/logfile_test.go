// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// A directory on the log's path swapped for a symlink after create (the
// kubelet's log directory is writable by whatever manages logs) must not
// redirect the root monitor's writes: the reopen is refused, and output
// keeps going to the file it had.
func TestLogReopenRefusesASymlinkedDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "ctr"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := openLog(dir, "ctr/0.log")
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	l.write([]byte("first\n"))

	outside := t.TempDir()
	if err := os.Rename(filepath.Join(dir, "ctr"), filepath.Join(dir, "ctr.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "ctr")); err != nil {
		t.Fatal(err)
	}
	if err := l.reopen(); err == nil {
		t.Fatal("reopen followed a symlinked directory on the log's path")
	}
	l.write([]byte("second\n"))
	if got, _ := os.ReadFile(filepath.Join(dir, "ctr.old", "0.log")); !bytes.Equal(got, []byte("first\nsecond\n")) {
		t.Errorf("the log holds %q after a refused reopen, want both lines", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "0.log")); !os.IsNotExist(err) {
		t.Errorf("a log file appeared behind the symlink: %v", err)
	}
	if _, err := openLog(dir, "ctr/1.log"); err == nil {
		t.Error("openLog followed a symlinked directory on the log's path")
	}
	if _, err := openLog(dir, "../escape.log"); err == nil {
		t.Error("openLog opened a path above the log directory")
	}
}

// The log directory is held open from create: a rotation reopens the log
// in that directory even if its path has been taken over since.
func TestLogReopenStaysInTheDirectoryItWasCreatedIn(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "pod")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := openLog(dir, "0.log")
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	l.write([]byte("one\n"))
	if err := os.Rename(dir, filepath.Join(base, "pod.moved")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(base, "pod.moved", "0.log"), filepath.Join(base, "pod.moved", "0.log.1")); err != nil {
		t.Fatal(err)
	}
	if err := l.reopen(); err != nil {
		t.Fatal(err)
	}
	l.write([]byte("two\n"))
	if got, _ := os.ReadFile(filepath.Join(base, "pod.moved", "0.log")); !bytes.Equal(got, []byte("two\n")) {
		t.Errorf("the reopened log in the original directory holds %q, want %q", got, "two\n")
	}
}

// After the container's output has ended, a reopen has nothing to reopen.
func TestLogReopenAfterClose(t *testing.T) {
	l, err := openLog(t.TempDir(), "0.log")
	if err != nil {
		t.Fatal(err)
	}
	l.close()
	if err := l.reopen(); err == nil {
		t.Error("reopen after close succeeded")
	}
}
