// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ioDrainTimeout bounds how long an exit waits for the container's output
// to be logged. Output normally ends with init (its pid namespace dies
// with it); a process in a shared pid namespace may keep the pipe open,
// and must not hold the exit back for long.
const ioDrainTimeout = 2 * time.Second

// container is one container the monitor holds the stdio of.
type container struct {
	id      string
	dir     string // the monitor's directory for it
	bundle  string
	logPath string
	cgroup  string // filesystem form of linux.cgroupsPath
	// sharedPID: the container has no PID namespace of its own (it shares
	// the pod's or the host's), so its init's exit does not end the rest of
	// its processes; the monitor kills them.
	sharedPID bool
	log       *logFile

	// stdin is the monitor's end of the container's stdin pipe, kept open
	// so the container does not read EOF. With a tty the terminal master,
	// the only output, serves as stdin too and this stays nil.
	stdin *os.File
	// console is the terminal master of a tty container: its output, its
	// stdin and where a resize goes. Nil without a tty.
	console *os.File
	// withStdin and stdinOnce are what the container was created with:
	// whether an attach may write its stdin, and whether the end of the
	// first attached stdin closes it.
	withStdin, stdinOnce bool
	stdinClosed          atomic.Bool
	// attached receives the output too, for the attachments of the moment.
	attached outputHub
	// outputs are the read ends the log writers drain; closing them
	// stops the writers.
	outputs []*os.File
	ioDone  chan struct{} // closed when every log writer has returned
	exited  chan struct{} // closed once the exit is recorded

	mu    sync.Mutex
	state State

	disposeMu sync.Mutex
	disposed  bool
}

func (c *container) snapshot() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// recordLocked is the state record of the container; c.mu is held.
func (c *container) recordLocked() stateRecord {
	return stateRecord{
		ID: c.id, Pid: c.state.Pid, Bundle: c.bundle, LogPath: c.logPath,
		CreatedAt: c.state.CreatedAt, StartedAt: c.state.StartedAt,
	}
}

func (c *container) hasExited() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// startLogging starts one CRI log writer per output stream.
func (c *container) startLogging(streams map[string]*os.File) {
	var wg sync.WaitGroup
	for name, f := range streams {
		c.outputs = append(c.outputs, f)
		w := newCRIWriter(name, c.log)
		kind := byte(frameStdout)
		if name == "stderr" {
			kind = frameStderr
		}
		src := &teeReader{f: f, kind: kind, hub: &c.attached}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.copyFrom(src)
		}()
	}
	go func() {
		wg.Wait()
		close(c.ioDone)
	}()
}

// waitIO waits, up to timeout, for the log writers to reach EOF.
func (c *container) waitIO(timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-c.ioDone:
		return true
	case <-t.C:
		return false
	}
}

// release closes every descriptor the monitor holds for the container
// and its log, after giving the writers a moment to finish.
func (c *container) release() {
	c.attached.close()
	if c.stdin != nil {
		c.stdin.Close()
	}
	if len(c.outputs) > 0 && !c.waitIO(ioDrainTimeout) {
		for _, f := range c.outputs {
			f.Close()
		}
		<-c.ioDone
	}
	for _, f := range c.outputs {
		f.Close()
	}
	c.log.close()
}
