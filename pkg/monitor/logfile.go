// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// logFile is a container's log file, shared by its stdout and stderr
// writers and reopenable for the kubelet's log rotation. A failed reopen
// keeps writing to the file it had; writes after close are dropped: a
// container must never block on its log.
//
// The file is opened, and reopened, relative to a handle on the pod's log
// directory taken at create, and no symlink on the way is followed: the
// monitor runs as root, and the directory is writable by whatever manages
// the pod's logs, so a link planted at the log's path or at any directory
// between would otherwise have it append to any file on the host.
type logFile struct {
	mu     sync.Mutex
	path   string   // for messages: the log's full path
	dir    *os.File // the pod's log directory (O_PATH); nil with a legacy absolute path
	rel    string   // the log's path under dir
	f      *os.File
	warned bool
	closed bool
}

// openLog opens the log rel under the directory dir. With dir empty, rel
// is an absolute path (a daemon older than the directory handle sends
// that), opened without following a symlink at its end. rel empty means no
// log: output is drained and dropped.
func openLog(dir, rel string) (*logFile, error) {
	l := &logFile{path: rel, rel: rel}
	if rel == "" {
		return l, nil
	}
	if dir != "" {
		l.path = filepath.Join(dir, rel)
		d, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open log directory %s: %w", dir, err)
		}
		l.dir = d
	}
	f, err := l.openFile()
	if err != nil {
		l.closeDir()
		return nil, fmt.Errorf("open log %s: %w", l.path, err)
	}
	l.f = f
	return l, nil
}

// openFile opens the log for appending, creating it if needed.
func (l *logFile) openFile() (*os.File, error) {
	const flags = os.O_WRONLY | os.O_APPEND | os.O_CREATE | unix.O_CLOEXEC
	if l.dir == nil {
		return os.OpenFile(l.rel, flags|unix.O_NOFOLLOW, 0o640)
	}
	fd, err := unix.Openat2(int(l.dir.Fd()), l.rel, &unix.OpenHow{
		Flags:   uint64(flags),
		Mode:    0o640,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if err == unix.ELOOP {
			return nil, fmt.Errorf("a symlink is in the way under %s, and log paths may not contain one: %w", l.dir.Name(), err)
		}
		return nil, err
	}
	return os.NewFile(uintptr(fd), l.path), nil
}

func (l *logFile) closeDir() {
	if l.dir != nil {
		l.dir.Close()
		l.dir = nil
	}
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

// reopen opens the log's path again and only then closes the old file, so
// a file the kubelet renamed away stops growing and a new one starts; when
// the new file cannot be opened, output keeps going to the old one.
func (l *logFile) reopen() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rel == "" {
		return nil
	}
	if l.closed {
		return fmt.Errorf("reopen log %s: the container's output has ended", l.path)
	}
	f, err := l.openFile()
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
	l.closeDir()
	l.closed = true
}
