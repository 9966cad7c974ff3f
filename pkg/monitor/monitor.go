// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// monitor is the state of one `podshim monitor` process.
type monitor struct {
	dir  string
	runc *runcCLI

	mu         sync.Mutex
	containers map[string]*container
	// shutdown is set once the pod is gone: no new container, and exit
	// as soon as none is left.
	shutdown bool
	done     chan struct{} // closed when the monitor is about to exit
}

func (m *monitor) lookup(id string) (*container, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.containers[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, ErrNotFound)
	}
	return c, nil
}

// containerDir is where the monitor keeps the records of container id.
// An id is a path element, never a path.
func (m *monitor) containerDir(id string) (string, error) {
	if id == "" || id == "." || id == ".." || filepath.Base(id) != id {
		return "", fmt.Errorf("invalid container id %q", id)
	}
	return filepath.Join(m.dir, id), nil
}

// remove forgets a container; if the pod is gone, the last removal ends
// the monitor.
func (m *monitor) remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.containers, id)
	m.maybeFinishLocked()
}

// requestShutdown marks the pod gone. Containers that already exited are
// released here (runc state, cgroup, descriptors); their records stay for
// the daemon. Running ones keep the monitor up until they exit.
func (m *monitor) requestShutdown() {
	m.mu.Lock()
	if m.shutdown {
		m.mu.Unlock()
		return
	}
	m.shutdown = true
	var exited []*container
	for _, c := range m.containers {
		if c.hasExited() {
			exited = append(exited, c)
		}
	}
	m.maybeFinishLocked()
	m.mu.Unlock()
	for _, c := range exited {
		go m.releaseExited(c)
	}
}

// releaseExited cleans up after a container that exited once the pod is
// gone and nobody will delete it.
func (m *monitor) releaseExited(c *container) {
	if err := m.dispose(c); err != nil {
		fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
	}
}

// dispose deletes the container from runc (state and cgroup), closes what
// the monitor holds for it and forgets it. Records on disk stay. A failed
// runc delete leaves everything in place for a retry.
func (m *monitor) dispose(c *container) error {
	c.disposeMu.Lock()
	defer c.disposeMu.Unlock()
	if c.disposed {
		return nil
	}
	if err := m.runc.delete(c.dir, c.id); err != nil && !isGone(err) {
		return fmt.Errorf("runc delete %s: %w", c.id, err)
	}
	c.release()
	c.disposed = true
	m.remove(c.id)
	return nil
}

// containerExited is called once a container's exit is recorded.
func (m *monitor) containerExited(c *container) {
	m.mu.Lock()
	shutdown := m.shutdown
	m.mu.Unlock()
	if shutdown {
		m.releaseExited(c)
	}
}

func (m *monitor) maybeFinishLocked() {
	if !m.shutdown || len(m.containers) > 0 {
		return
	}
	select {
	case <-m.done:
	default:
		close(m.done)
	}
}
