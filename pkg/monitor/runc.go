// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
)

// runcCLI drives the runc binary directly rather than through go-runc:
// every invocation must start through the reaper, and the monitor needs
// only five subcommands.
type runcCLI struct {
	binary  string
	root    string
	systemd bool
	reaper  *reaper
	devNull *os.File
	seq     atomic.Uint64
}

// runcCall is one runc invocation. It logs to a file of its own so that a
// failure is explained with runc's words, and concurrent calls on the same
// container cannot mix their messages.
type runcCall struct {
	cmd     *exec.Cmd
	logPath string
}

// command prepares `runc <global flags> args...`, logging into dir. stdio
// defaults to /dev/null; callers replace it for create and exec.
func (r *runcCLI) command(dir string, args ...string) *runcCall {
	logPath := filepath.Join(dir, "runc-"+strconv.FormatUint(r.seq.Add(1), 10)+".log")
	full := []string{"--root", r.root, "--log", logPath, "--log-format", "json"}
	if r.systemd {
		full = append(full, "--systemd-cgroup")
	}
	cmd := exec.Command(r.binary, append(full, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r.devNull, r.devNull, r.devNull
	return &runcCall{cmd: cmd, logPath: logPath}
}

// run runs the call to completion and turns a non-zero exit into an error
// carrying runc's last logged error.
func (r *runcCLI) run(c *runcCall) error {
	defer os.Remove(c.logPath)
	e, err := r.reaper.run(c.cmd)
	if err != nil {
		return fmt.Errorf("start runc: %w", err)
	}
	return c.result(e)
}

// result interprets runc's exit status; it reads, but does not remove,
// the call's log.
func (c *runcCall) result(e exitStatus) error {
	if e.code() == 0 {
		return nil
	}
	msg := lastRuncError(c.logPath)
	return &runcError{code: e.code(), msg: msg}
}

// runcError is a failed runc call; msg is runc's last logged error, empty
// if it logged none (as when `runc exec` passes on its process's status).
type runcError struct {
	code int
	msg  string
}

func (e *runcError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("runc exited with status %d", e.code)
	}
	return fmt.Sprintf("runc exited with status %d: %s", e.code, e.msg)
}

// isGone reports whether runc failed because the container, or its init,
// no longer exists: for kill and delete that is what the caller wanted.
func isGone(err error) bool {
	var re *runcError
	if !errors.As(err, &re) {
		return false
	}
	// runc's words, then crun's (kill of an exited init; any call on an
	// unknown container, whose status file is missing).
	for _, s := range []string{"does not exist", "not running", "process already finished",
		"No such process", "/status`: No such file or directory"} {
		if strings.Contains(re.msg, s) {
			return true
		}
	}
	return false
}

// lastRuncError returns the last error-level message in a runc JSON log.
func lastRuncError(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var entry struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) == nil && (entry.Level == "error" || entry.Level == "fatal") {
			last = entry.Msg
		}
	}
	return last
}

// delete removes a container from the runtime. A plain delete comes first:
// runc's --force always sends SIGKILL and then sleeps 100 ms before it
// looks again, even for a container that stopped long ago, which would put
// 100 ms on every RemoveContainer. A plain delete of a stopped container
// still kills what its init left in a shared PID namespace; --force is
// kept for one that still runs, or a plain delete that failed otherwise.
func (r *runcCLI) delete(dir, id string) error {
	err := r.run(r.command(dir, "delete", id))
	if err == nil || isGone(err) {
		return err
	}
	return r.run(r.command(dir, "delete", "--force", id))
}
