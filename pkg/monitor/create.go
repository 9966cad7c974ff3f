// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// create runs `runc create` with stdio the monitor holds: pipes whose read
// ends feed the CRI log, or with a tty the terminal master, whose output
// is logged as stdout. It returns the pid of the container's init.
func (m *monitor) create(req request) (int, error) {
	dir, err := m.containerDir(req.ID)
	if err != nil {
		return 0, err
	}
	if req.Bundle == "" {
		return 0, errors.New("create: no bundle")
	}
	c := &container{
		id: req.ID, dir: dir, bundle: req.Bundle, logPath: req.LogPath,
		withStdin: req.Stdin, stdinOnce: req.StdinOnce,
		ioDone: make(chan struct{}), exited: make(chan struct{}),
		state: State{ID: req.ID, Status: StatusUnknown},
	}
	m.mu.Lock()
	switch _, exists := m.containers[req.ID]; {
	case m.shutdown:
		m.mu.Unlock()
		return 0, ErrShuttingDown
	case exists:
		m.mu.Unlock()
		return 0, fmt.Errorf("container %s already exists", req.ID)
	}
	m.containers[req.ID] = c
	m.mu.Unlock()

	pid, err := m.createContainer(c, req)
	if err != nil {
		m.remove(req.ID)
		return 0, fmt.Errorf("create %s: %w", req.ID, err)
	}
	return pid, nil
}

func (m *monitor) createContainer(c *container, req request) (pid int, err error) {
	// Records of an earlier container of the same id must not be read as
	// this one's.
	if err := os.RemoveAll(c.dir); err != nil {
		return 0, fmt.Errorf("clear %s: %w", c.dir, err)
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return 0, fmt.Errorf("container directory: %w", err)
	}
	if c.cgroup, c.sharedPID, err = readBundle(c.bundle); err != nil {
		return 0, fmt.Errorf("read bundle: %w", err)
	}
	logDir, logRel := req.LogDir, req.LogRel
	if logDir == "" {
		logRel = req.LogPath // an older daemon: one absolute path
	}
	if c.log, err = openLog(logDir, logRel); err != nil {
		return 0, err
	}
	sio, err := m.newStdio(c, req)
	if err != nil {
		c.log.close()
		return 0, err
	}
	pidFile := filepath.Join(c.dir, "init.pid")
	args := []string{"create", "--bundle", c.bundle, "--pid-file", pidFile}
	if sio.console != nil {
		args = append(args, "--console-socket", sio.console.path)
	}
	call := m.runc.command(c.dir, append(args, c.id)...)
	sio.attach(call)
	since := time.Now()
	err = m.runc.run(call)
	sio.closeChildEnds()
	if err == nil {
		err = sio.finish(c)
	}
	if err == nil {
		pid, err = readPid(pidFile)
	}
	if err == nil {
		err = m.recordCreated(c, pid)
	}
	if err != nil {
		// runc may have got as far as a created container.
		m.runc.run(m.runc.command(c.dir, "delete", "--force", c.id))
		sio.abort(c)
		os.RemoveAll(c.dir)
		return 0, err
	}
	go m.waitExit(c, m.runc.reaper.watch(pid, since))
	return pid, nil
}

// recordCreated writes state.json before create returns: a daemon that
// restarts must find every container it was told about.
func (m *monitor) recordCreated(c *container, pid int) error {
	c.mu.Lock()
	c.state.Pid, c.state.Status, c.state.CreatedAt = pid, StatusCreated, time.Now()
	rec := c.recordLocked()
	c.mu.Unlock()
	return writeJSONAtomic(filepath.Join(c.dir, stateFile), rec)
}

func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil || pid <= 0 {
		return 0, fmt.Errorf("bad pid file %s: %q", path, data)
	}
	return pid, nil
}

// waitExit records the exit of the container's init, then tells waiters.
func (m *monitor) waitExit(c *container, exits <-chan exitStatus) {
	e := <-exits
	if c.sharedPID {
		m.killLeftovers(c)
	}
	// Let the writers log what the container wrote last, so a Wait that
	// returns sees the whole log.
	c.waitIO(ioDrainTimeout)
	code := e.code()
	reason := exitReason(code, oomKills(c.cgroup) > 0)
	rec := exitRecord{ID: c.id, Pid: e.pid, ExitCode: code, FinishedAt: e.at, Reason: reason}
	if err := writeJSONAtomic(filepath.Join(c.dir, exitFile), rec); err != nil {
		fmt.Fprintf(os.Stderr, "monitor: record exit of %s: %v\n", c.id, err)
	}
	c.mu.Lock()
	c.state.Status, c.state.ExitCode, c.state.FinishedAt, c.state.Reason = StatusExited, code, e.at, reason
	c.mu.Unlock()
	close(c.exited)
	m.containerExited(c)
}

// killLeftovers ends what a container's init leaves behind when the
// container shares a PID namespace (the pod's, or the host's): there the
// kernel does not kill the rest with init, so its children and anything
// exec'd would run on, in a container reported exited. runc kill with
// SIGKILL signals every process in the container's cgroup for such a
// container, as the reference runtime's shim does on init's exit.
func (m *monitor) killLeftovers(c *container) {
	err := m.runc.run(m.runc.command(c.dir, "kill", c.id, "KILL"))
	if err != nil && !isGone(err) {
		fmt.Fprintf(os.Stderr, "monitor: kill what %s left running: %v\n", c.id, err)
	}
}
