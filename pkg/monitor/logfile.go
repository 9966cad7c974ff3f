// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"sync"
)

// logFile is a container's log file, shared by its stdout and stderr
// writers and reopenable for the kubelet's log rotation. Writes after a
// failed reopen or after close are dropped: a container must never block
// on its log.
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
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l.f = f
	return l, nil
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

// reopen closes the file and opens path again, so a file the kubelet
// renamed away stops growing and a new one starts.
func (l *logFile) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" {
		return nil
	}
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("reopen log %s: %w", l.path, err)
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
