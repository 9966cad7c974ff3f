// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// logFile is a container's log file, shared by its stdout and stderr
// writers and reopenable for the kubelet's log rotation. A failed reopen
// keeps writing to the file it had; writes after close are dropped: a
// container must never block on its log.
type logFile struct {
	mu     sync.Mutex
	path   string
	f      *os.File
	warned bool
}

func openLog(path string) (*logFile, error) {
	l := &logFile{path: path}
	if path == "" {
		return l, nil // no log wanted: output is drained and dropped
	}
	f, err := openLogPath(path)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l.f = f
	return l, nil
}

// openLogPath opens a log for appending, refusing a symlink in its place:
// the monitor runs as root, and a link planted where the log goes would
// otherwise have it append to any file on the host.
func openLogPath(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o640)
}

// write writes whole records; one call per batch keeps the records of
// stdout and stderr from interleaving.
func (l *logFile) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return
	}
	if _, err := l.f.Write(b); err != nil && !l.warned {
		// Once per file: a full disk must not flood the monitor's log.
		l.warned = true
		fmt.Fprintf(os.Stderr, "monitor: write %s: %v\n", l.path, err)
	}
}

// reopen opens path again and only then closes the old file, so a file
// the kubelet renamed away stops growing and a new one starts; when the
// new file cannot be opened, output keeps going to the old one.
func (l *logFile) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" {
		return nil
	}
	f, err := openLogPath(l.path)
	if err != nil {
		return fmt.Errorf("reopen log %s: %w", l.path, err)
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.warned = f, false
	return nil
}

func (l *logFile) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
}
