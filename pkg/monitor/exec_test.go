// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"errors"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func execProcess(args ...string) specs.Process {
	return specs.Process{Args: args, Env: []string{"PATH=/bin:/usr/bin"}, Cwd: "/"}
}

func TestExecSync(t *testing.T) {
	e := newEnv(t)
	e.run("exec", "sleep 1000")
	res, err := e.client.ExecSync(e.ctx(), "exec", execProcess("sh", "-c", "echo out; echo err >&2; exit 5"), 10*time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 5 {
		t.Errorf("result: stdout %q stderr %q code %d", res.Stdout, res.Stderr, res.ExitCode)
	}
	// A command that cannot start is an error, not an exit code.
	if _, err := e.client.ExecSync(e.ctx(), "exec", execProcess("/no/such/binary"), 10*time.Second, 0); err == nil {
		t.Error("exec of a missing binary succeeded")
	}
}

func TestExecSyncOutputCapped(t *testing.T) {
	e := newEnv(t)
	e.run("flood", "sleep 1000")
	const max = 1 << 20
	res, err := e.client.ExecSync(e.ctx(), "flood", execProcess("sh", "-c", "yes | head -c 52428800; yes | head -c 3000000 >&2"), 60*time.Second, max)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != max || len(res.Stderr) != max || res.ExitCode != 0 {
		t.Errorf("stdout %d bytes, stderr %d bytes, code %d; want %d each, 0", len(res.Stdout), len(res.Stderr), res.ExitCode, max)
	}
	if string(res.Stdout[:4]) != "y\ny\n" {
		t.Errorf("stdout starts %q", res.Stdout[:4])
	}
}

func TestExecSyncTimeout(t *testing.T) {
	e := newEnv(t)
	e.run("slow", "sleep 1000")
	// sh forks: the whole tree must go, not only the first process.
	secs := unique(61)
	_, err := e.client.ExecSync(e.ctx(), "slow", execProcess("sh", "-c", "sleep "+secs+"; true"), time.Second, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if pids := processesWithArgs("sleep", secs); len(pids) > 0 {
		t.Errorf("exec left processes behind: %v", pids)
	}
	// The container is unharmed.
	if st, _ := e.client.State(e.ctx(), "slow"); st.Status != StatusRunning {
		t.Errorf("container after timeout: %+v", st)
	}
}

func TestExecSyncClientGone(t *testing.T) {
	e := newEnv(t)
	e.run("gone", "sleep 1000")
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	secs := unique(62)
	_, err := e.client.ExecSync(ctx, "gone", execProcess("sh", "-c", "sleep "+secs+"; true"), 0, 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	eventually(t, "the exec to be killed", func() bool { return len(processesWithArgs("sleep", secs)) == 0 })
}

// An exec in a container that has exited says so (ErrNotRunning), which
// the daemon reports as FailedPrecondition rather than an internal error.
func TestExecSyncInExitedContainer(t *testing.T) {
	e := newEnv(t)
	e.run("gone", "exit 0")
	e.wait("gone")
	_, err := e.client.ExecSync(e.ctx(), "gone", execProcess("true"), 10*time.Second, 0)
	if !errors.Is(err, ErrNotRunning) {
		t.Fatalf("err = %v, want ErrNotRunning", err)
	}
}
