// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	e.run("zero", "true")
	e.run("three", "exit 3")
	for id, want := range map[string]State{
		"zero":  {ExitCode: 0, Reason: ReasonCompleted},
		"three": {ExitCode: 3, Reason: ReasonError},
	} {
		st := e.wait(id)
		if st.ExitCode != want.ExitCode || st.Reason != want.Reason {
			t.Errorf("%s: %+v, want code %d reason %s", id, st, want.ExitCode, want.Reason)
		}
		if st.CreatedAt.IsZero() || st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("%s: times %+v", id, st)
		}
		// The record on disk says the same.
		rec, ok, err := ReadExit(e.dir, id)
		if err != nil || !ok {
			t.Fatalf("ReadExit %s: %v %v", id, ok, err)
		}
		if rec.ExitCode != st.ExitCode || rec.Reason != st.Reason || !rec.FinishedAt.Equal(st.FinishedAt) ||
			!rec.StartedAt.Equal(st.StartedAt) || rec.Pid != st.Pid || rec.Status != StatusExited {
			t.Errorf("%s: record %+v, state %+v", id, rec, st)
		}
	}
}

func TestOOMKilled(t *testing.T) {
	e := newEnv(t)
	// tail keeps a newline-less stream in memory until the OOM killer
	// ends it.
	e.run("oom", "head -c 100m /dev/zero | tail", withMemoryLimit(8<<20))
	st := e.wait("oom")
	if st.Reason != ReasonOOMKilled || st.ExitCode == 0 {
		t.Errorf("exit: %+v, want OOMKilled", st)
	}
	if rec, _, _ := ReadExit(e.dir, "oom"); rec.Reason != ReasonOOMKilled {
		t.Errorf("record: %+v", rec)
	}
}

func TestKillThenWait(t *testing.T) {
	e := newEnv(t)
	// An init process only gets the signals it handles. The shell runs
	// its trap between two short sleeps, so no signal can be missed.
	usecs := unique(10)
	e.run("term", "trap 'exit 7' TERM; while true; do usleep "+usecs+"; done")
	st, err := e.client.State(e.ctx(), "term")
	if err != nil || st.Status != StatusRunning || st.Pid <= 0 {
		t.Fatalf("state: %+v %v", st, err)
	}
	// The trap must be set before the signal comes: wait for a sleep.
	eventually(t, "the loop to run", func() bool { return len(processesWithArgs("usleep", usecs)) > 0 })
	if err := e.client.Kill(e.ctx(), "term", syscall.SIGTERM, false); err != nil {
		t.Fatal(err)
	}
	st = e.wait("term")
	if st.ExitCode != 7 || st.Reason != ReasonError {
		t.Errorf("exit: %+v", st)
	}
	// Killing what already exited succeeds; so does deleting twice.
	if err := e.client.Kill(e.ctx(), "term", syscall.SIGKILL, true); err != nil {
		t.Errorf("kill of an exited container: %v", err)
	}
	if err := e.client.Delete(e.ctx(), "term"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Delete(e.ctx(), "term"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if _, err := e.client.State(e.ctx(), "term"); !errors.Is(err, ErrNotFound) {
		t.Errorf("state after delete: %v, want ErrNotFound", err)
	}
	if _, ok, _ := ReadExit(e.dir, "term"); ok {
		t.Error("delete left the exit record")
	}
}

func TestDeleteRunningAndCreated(t *testing.T) {
	e := newEnv(t)
	e.run("running", "sleep 1000")
	e.create(CreateRequest{ID: "created"}, []string{"true"})
	if st, _ := e.client.State(e.ctx(), "created"); st.Status != StatusCreated {
		t.Errorf("state: %+v", st)
	}
	for _, id := range []string{"running", "created"} {
		if err := e.client.Delete(e.ctx(), id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	if pids := containerProcesses(); len(pids) > 0 {
		t.Errorf("processes left: %v", pids)
	}
}

func withHostPID(s *specs.Spec) {
	var keep []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != specs.PIDNamespace {
			keep = append(keep, ns)
		}
	}
	s.Linux.Namespaces = keep
}

// In a PID namespace it does not own, a container's init exiting leaves
// its children running unless the monitor ends them: it does, before the
// exit is reported.
func TestInitExitKillsLeftoversInASharedPIDNamespace(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("shared", "sleep 1000 & echo $!", withHostPID)
	e.wait("shared")
	recs := readLog(t, logPath)
	if len(recs) == 0 {
		t.Fatal("no pid logged")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(recs[0].content))
	if err != nil {
		t.Fatalf("logged %q: %v", recs[0].content, err)
	}
	alive := func() bool {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return false
		}
		// pid (comm) state ...: a zombie is dead, only not yet reaped.
		i := strings.LastIndexByte(string(stat), ')')
		return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive() {
		if time.Now().After(deadline) {
			t.Fatalf("the container's child %d still runs after its init exited", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestReadBundleSharedPID(t *testing.T) {
	for _, c := range []struct {
		name   string
		ns     []specs.LinuxNamespace
		shared bool
	}{
		{"own", []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}, false},
		{"pod's", []specs.LinuxNamespace{{Type: specs.PIDNamespace, Path: "/proc/42/ns/pid"}}, true},
		{"host's", []specs.LinuxNamespace{{Type: specs.MountNamespace}}, true},
	} {
		dir := t.TempDir()
		data, _ := json.Marshal(specs.Spec{Linux: &specs.Linux{CgroupsPath: "/a/b", Namespaces: c.ns}})
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		cg, shared, err := readBundle(dir)
		if err != nil || cg != "a/b" || shared != c.shared {
			t.Errorf("%s PID namespace: cgroup %q shared %v (%v), want a/b %v", c.name, cg, shared, err, c.shared)
		}
	}
}
