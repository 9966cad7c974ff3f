// SPDX-License-Identifier: Apache-2.0

// Package runc drives the runc binary that podshim builds from the version
// pinned in go.mod. It adds to go-runc what podshim needs everywhere: error
// messages that carry runc's own explanation, and idempotent kill/delete.
package runc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	gorunc "github.com/containerd/go-runc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrNotFound means runc has no container of that id.
var ErrNotFound = errors.New("container does not exist")

// Runtime is one runtime handler: an OCI runtime binary with the runc
// command line (runc, crun) and one state root.
type Runtime struct {
	name     string
	binary   string
	root     string
	systemd  bool
	features Features
}

// New returns the Runtime of handler name; root holds the binary's state
// (under podshim's state dir). Its features are asked of the binary once.
func New(ctx context.Context, name, binary, root string, systemdCgroup bool) (*Runtime, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("runtime handler %s: binary: %w", name, err)
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return nil, fmt.Errorf("runtime handler %s: root: %w", name, err)
	}
	return &Runtime{name: name, binary: binary, root: root, systemd: systemdCgroup,
		features: ProbeFeatures(ctx, binary)}, nil
}

// Name is the handler's name, as RunPodSandbox's runtime_handler gives it.
func (r *Runtime) Name() string { return r.name }

// Binary is the runtime's executable.
func (r *Runtime) Binary() string { return r.binary }

// Root is the runtime's state root (its --root).
func (r *Runtime) Root() string { return r.root }

// SystemdCgroup tells whether the runtime is run with --systemd-cgroup.
func (r *Runtime) SystemdCgroup() bool { return r.systemd }

// Features is what the binary said it supports at start-up.
func (r *Runtime) Features() Features { return r.features }

// TryRecursiveReadOnly settles by a trial mount whether a binary that
// could not answer `features` applies "rro" (exe: a static binary for the
// probe's container). Called at start-up, before the handler is shared.
func (r *Runtime) TryRecursiveReadOnly(ctx context.Context, exe string) error {
	if r.features.Probed {
		return nil
	}
	ok, err := ProbeRecursiveReadOnly(ctx, r.binary, exe)
	if err != nil {
		return err
	}
	r.features.RecursiveReadOnly, r.features.RecursiveReadOnlyTried = ok, true
	return nil
}

// client returns a go-runc client that logs to logPath, so a failure can be
// explained with runc's own words rather than "exit status 1".
func (r *Runtime) client(logPath string) *gorunc.Runc {
	return &gorunc.Runc{
		Command:       r.binary,
		Root:          r.root,
		Log:           logPath,
		LogFormat:     gorunc.JSON,
		SystemdCgroup: r.systemd,
	}
}

// CreateDetached runs `runc create` for a process that needs no stdio (the
// pause process): its stdio is /dev/null, so it holds no pipe of ours open.
// It returns the pid of the container's init.
func (r *Runtime) CreateDetached(ctx context.Context, id, bundle string) (int, error) {
	logPath := filepath.Join(bundle, "runc.log")
	nullIO, err := gorunc.NewNullIO()
	if err != nil {
		return 0, fmt.Errorf("%s create %s: %w", r.name, id, err)
	}
	defer nullIO.Close()
	pidFile := filepath.Join(bundle, "init.pid")
	err = r.client(logPath).Create(ctx, id, bundle, &gorunc.CreateOpts{IO: nullIO, PidFile: pidFile})
	if err != nil {
		return 0, fmt.Errorf("%s create %s: %w", r.name, id, explain(err, logPath))
	}
	pid, err := gorunc.ReadPidFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("%s create %s: read pid: %w", r.name, id, err)
	}
	return pid, nil
}

// Start starts a created container.
func (r *Runtime) Start(ctx context.Context, id, bundle string) error {
	logPath := filepath.Join(bundle, "runc.log")
	if err := r.client(logPath).Start(ctx, id); err != nil {
		return fmt.Errorf("%s start %s: %w", r.name, id, explain(err, logPath))
	}
	return nil
}

// Kill signals the container's init. A container that is gone, or whose
// init already exited, is not an error: the caller wanted it dead.
func (r *Runtime) Kill(ctx context.Context, id string, sig int) error {
	err := r.client("").Kill(ctx, id, sig, nil)
	if err == nil || isGone(err) {
		return nil
	}
	return fmt.Errorf("%s kill %s: %w", r.name, id, err)
}

// Delete removes the container, killing it if needed, along with its
// cgroup. Deleting what does not exist succeeds.
//
// A plain delete comes first: runc's --force always sends SIGKILL and then
// polls in 100 ms sleeps, even for a container long stopped, which put
// 100 ms on every RemoveContainer and RemovePodSandbox. A plain delete of a
// stopped container still kills what its init left in the cgroup (a
// shared PID namespace). Only a container that still runs, or a delete
// that failed otherwise, gets --force.
func (r *Runtime) Delete(ctx context.Context, id string) error {
	err := r.client("").Delete(ctx, id, &gorunc.DeleteOpts{})
	if err == nil || isGone(err) {
		return nil
	}
	err = r.client("").Delete(ctx, id, &gorunc.DeleteOpts{Force: true})
	if err == nil || isGone(err) {
		return nil
	}
	return fmt.Errorf("%s delete %s: %w", r.name, id, err)
}

// State reports runc's view: "created", "running", "stopped" or "paused".
func (r *Runtime) State(ctx context.Context, id string) (*gorunc.Container, error) {
	c, err := r.client("").State(ctx, id)
	if err != nil {
		if isGone(err) {
			return nil, fmt.Errorf("%s state %s: %w", r.name, id, ErrNotFound)
		}
		return nil, fmt.Errorf("%s state %s: %w", r.name, id, err)
	}
	return c, nil
}

// goneMessages are how runtimes say a container, or its init, is gone:
// runc's words first, then crun's (kill of an exited init; any call on an
// unknown container, whose status file is missing).
var goneMessages = []string{"does not exist", "not running", "process already finished",
	"No such process", "/status`: No such file or directory"}

func isGone(err error) bool {
	s := err.Error()
	for _, m := range goneMessages {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// explain appends the last error runc logged, if any.
func explain(err error, logPath string) error {
	data, rerr := os.ReadFile(logPath)
	if rerr != nil {
		return err
	}
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		var line struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && (line.Level == "error" || line.Level == "fatal") {
			last = line.Msg
		}
	}
	if last == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, last)
}

// List returns the IDs of every container in this runc root.
func (r *Runtime) List(ctx context.Context) ([]string, error) {
	cs, err := r.client("").List(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s list: %w", r.name, err)
	}
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// Update changes a running container's cgroup resources.
func (r *Runtime) Update(ctx context.Context, id string, resources *specs.LinuxResources) error {
	if err := r.client("").Update(ctx, id, resources); err != nil {
		if isGone(err) {
			return fmt.Errorf("%s update %s: %w", r.name, id, ErrNotFound)
		}
		return fmt.Errorf("%s update %s: %w", r.name, id, err)
	}
	return nil
}

// Command returns an unstarted runc invocation with this runtime's global
// flags, for calls that stream stdio (exec with a client attached).
func (r *Runtime) Command(ctx context.Context, args ...string) *exec.Cmd {
	global := []string{"--root", r.root}
	if r.systemd {
		global = append(global, "--systemd-cgroup")
	}
	return exec.CommandContext(ctx, r.binary, append(global, args...)...)
}
