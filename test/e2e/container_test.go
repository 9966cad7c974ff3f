// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerExitCodeAndCRILog(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "exits", "sh", "-c", "echo out; echo err >&2; printf partial; exit 3")
	st := e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED)
	if st.ExitCode != 3 || st.Reason != "Error" || st.FinishedAt <= st.StartedAt || st.StartedAt <= st.CreatedAt {
		t.Fatalf("status: exit %d reason %q created %d started %d finished %d", st.ExitCode, st.Reason, st.CreatedAt, st.StartedAt, st.FinishedAt)
	}
	if st.LogPath != filepath.Join(e.logDir, "exits.log") || st.ImageRef == "" || st.Image.GetImage() != e.image {
		t.Fatalf("status: log %q image %v ref %q", st.LogPath, st.Image, st.ImageRef)
	}
	lines := readLog(t, st.LogPath)
	got := map[string]logLine{}
	for _, l := range lines {
		got[l.msg] = l
	}
	for msg, want := range map[string][2]string{"out": {"stdout", "F"}, "err": {"stderr", "F"}, "partial": {"stdout", "P"}} {
		if l, ok := got[msg]; !ok || l.stream != want[0] || l.tag != want[1] {
			t.Errorf("log line %q: got %+v, want stream %s tag %s (all: %+v)", msg, l, want[0], want[1], lines)
		}
	}

	ok := e.run(t, "ok", "true")
	if st := e.waitState(t, ok, runtimeapi.ContainerState_CONTAINER_EXITED); st.ExitCode != 0 || st.Reason != "Completed" {
		t.Fatalf("a clean exit: %d %q", st.ExitCode, st.Reason)
	}
}

func TestAOneMebibyteLineIsSplitAndReassembles(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "long", "sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' a; echo")
	st := e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED)
	lines := readLog(t, st.LogPath)
	var whole strings.Builder
	for i, l := range lines {
		wantTag := "P"
		if i == len(lines)-1 {
			wantTag = "F"
		}
		if l.tag != wantTag || l.stream != "stdout" {
			t.Fatalf("line %d of %d: %s %s", i, len(lines), l.stream, l.tag)
		}
		whole.WriteString(l.msg)
	}
	if len(lines) < 2 || whole.String() != strings.Repeat("a", 1<<20) {
		t.Fatalf("%d lines reassemble to %d bytes, want 1 MiB of 'a' in several chunks", len(lines), whole.Len())
	}
}

func TestOOMKilledIsReported(t *testing.T) {
	e := newPodEnv(t, "")
	cfg := e.containerConfig("hog", "sh", "-c", "tail /dev/zero")
	cfg.Linux.Resources = &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 16 << 20}
	id := e.create(t, cfg)
	if _, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	st := e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED)
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Fatalf("want OOMKilled with 137, got %q %d", st.Reason, st.ExitCode)
	}
}

func TestReopenContainerLogAfterRotation(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "ticker", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done")
	st := e.status(t, id)
	waitForLog(t, st.LogPath, "tick 1")
	rotated := st.LogPath + ".1"
	if err := os.Rename(st.LogPath, rotated); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.rt.ReopenContainerLog(ctxT(t, 10*time.Second), &runtimeapi.ReopenContainerLogRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	waitForLog(t, st.LogPath, "tick")
	before, _ := os.ReadFile(rotated)
	time.Sleep(200 * time.Millisecond)
	after, _ := os.ReadFile(rotated)
	if len(after) != len(before) {
		t.Fatal("the rotated file still grows after ReopenContainerLog")
	}
}

func TestExecSyncOutputExitCodeTimeoutAndCap(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "sleeper", "sleep", "1000")
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)
	resp, err := e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "echo hi; echo oops >&2; exit 7"}})
	if err != nil || string(resp.Stdout) != "hi\n" || string(resp.Stderr) != "oops\n" || resp.ExitCode != 7 {
		t.Fatalf("ExecSync: %q %q %d %v", resp.GetStdout(), resp.GetStderr(), resp.GetExitCode(), err)
	}
	_, err = e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"sleep", "30"}, Timeout: 1})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("ExecSync past its timeout: want DeadlineExceeded, got %v", err)
	}
	flood, err := e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "yes | head -c 64000000"}})
	if err != nil {
		t.Fatal(err)
	}
	// The cap is container.MaxExecOutput, 7 MiB per stream.
	if n := len(flood.Stdout); n == 0 || n > 7<<20 {
		t.Fatalf("a 64 MB flood should be capped at 7 MiB, got %d bytes", n)
	}
	_, err = e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: "nope", Cmd: []string{"true"}})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("exec in an unknown container: want NotFound, got %v", err)
	}
}

func TestStopUsesTheStopSignalThenSIGKILL(t *testing.T) {
	e := newPodEnv(t, "")
	polite := e.run(t, "polite", "sleep", "1000")
	stubborn := e.run(t, "stubborn", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done")
	e.waitState(t, polite, runtimeapi.ContainerState_CONTAINER_RUNNING)
	e.waitState(t, stubborn, runtimeapi.ContainerState_CONTAINER_RUNNING)
	for _, id := range []string{polite, stubborn} {
		if _, err := e.d.rt.StopContainer(ctxT(t, time.Minute), &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if st := e.status(t, polite); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 143 {
		t.Fatalf("SIGTERM should end sleep: %v %d", st.State, st.ExitCode)
	}
	if st := e.status(t, stubborn); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 137 {
		t.Fatalf("a process ignoring SIGTERM is SIGKILLed after the timeout: %v %d", st.State, st.ExitCode)
	}
	// Stopping again, and removing twice, succeed.
	if _, err := e.d.rt.StopContainer(ctxT(t, time.Minute), &runtimeapi.StopContainerRequest{ContainerId: polite, Timeout: 1}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := e.d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: polite}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStatsUpdateAndRemoveLeaveNothing(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "writer", "sh", "-c", "head -c 3000000 /dev/zero > /big; sleep 1000")
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)
	var st *runtimeapi.ContainerStats
	for i := 0; i < 100; i++ {
		resp, err := e.d.rt.ContainerStats(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatsRequest{ContainerId: id})
		if err != nil {
			t.Fatal(err)
		}
		st = resp.Stats
		if st.WritableLayer.UsedBytes.GetValue() >= 3000000 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st.WritableLayer.UsedBytes.GetValue() < 3000000 || st.Memory.WorkingSetBytes.GetValue() == 0 || st.Cpu.UsageCoreNanoSeconds.GetValue() == 0 {
		t.Fatalf("stats: %+v", st)
	}
	pod, err := e.d.rt.PodSandboxStats(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatsRequest{PodSandboxId: e.pod})
	if err != nil || len(pod.Stats.Linux.Containers) != 1 || pod.Stats.Linux.Memory.WorkingSetBytes.GetValue() == 0 {
		t.Fatalf("pod stats: %+v %v", pod, err)
	}

	if _, err := e.d.rt.UpdateContainerResources(ctxT(t, 10*time.Second), &runtimeapi.UpdateContainerResourcesRequest{
		ContainerId: id, Linux: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}}); err != nil {
		t.Fatal(err)
	}
	cg := filepath.Join("/sys/fs/cgroup/memory/podshim", "podshim-"+id, "memory.limit_in_bytes")
	if data, err := os.ReadFile(cg); err != nil || strings.TrimSpace(string(data)) != fmt.Sprint(64<<20) {
		t.Fatalf("memory limit after UpdateContainerResources: %q %v", data, err)
	}
	if got := e.status(t, id).GetResources().GetLinux().GetMemoryLimitInBytes(); got != 64<<20 {
		t.Fatalf("status should show the new limit, got %d", got)
	}

	if _, err := e.d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(filepath.Join(e.d.dir, "root", "containers")); len(m) != 0 {
		t.Fatalf("rootfs mounts left: %v", m)
	}
	for _, dir := range []string{filepath.Join(e.d.dir, "root", "containers", id), filepath.Join(e.d.dir, "state", "containers", id), filepath.Dir(cg)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s left after RemoveContainer", dir)
		}
	}
	if _, err := e.d.rt.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: id}); status.Code(err) != codes.NotFound {
		t.Fatalf("status of a removed container: want NotFound, got %v", err)
	}
}

func TestContainersOutliveADaemonKill(t *testing.T) {
	e := newPodEnv(t, "")
	ticker := e.run(t, "ticker", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done")
	quitter := e.run(t, "quitter", "sh", "-c", "sleep 1; exit 5")
	e.waitState(t, ticker, runtimeapi.ContainerState_CONTAINER_RUNNING)
	logPath := e.status(t, ticker).LogPath

	e.d.kill()
	// While the daemon is down the quitter exits and the ticker keeps
	// logging: the pod's monitor, not the daemon, holds their stdio.
	before, _ := os.ReadFile(logPath)
	time.Sleep(2 * time.Second)
	during, _ := os.ReadFile(logPath)
	if len(during) <= len(before) {
		t.Fatal("logging stopped while the daemon was down")
	}
	e.d.start()

	if st := e.status(t, ticker); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("after a daemon kill the ticker is %v", st.State)
	}
	if st := e.status(t, quitter); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 5 {
		t.Fatalf("an exit while the daemon was down: %v %d", st.State, st.ExitCode)
	}
	resp, err := e.d.rt.ListContainers(ctxT(t, 10*time.Second), &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{
		State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING}}})
	if err != nil || len(resp.Containers) != 1 || resp.Containers[0].Id != ticker {
		t.Fatalf("running containers after restart: %v %v", resp, err)
	}
	// The exec path works through the reconnected monitor too.
	if out, err := e.d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: ticker, Cmd: []string{"echo", "still here"}}); err != nil || string(out.Stdout) != "still here\n" {
		t.Fatalf("exec after restart: %v %v", out, err)
	}
	// Stopping the pod stops its containers.
	if _, err := e.d.rt.StopPodSandbox(context.Background(), &runtimeapi.StopPodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatal(err)
	}
	if st := e.status(t, ticker); st.State != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Fatalf("after StopPodSandbox the ticker is %v", st.State)
	}
}

// A command that does not exist does not fail CreateContainer: the
// container is created, StartContainer fails, and from then it is exited
// with code 128 and reason StartError, the error as its message — as the
// reference runtime reports it, so that the kubelet applies the pod's
// restart policy. It is removed like any other.
func TestContainerCommandNotFoundFailsAtStart(t *testing.T) {
	e := newPodEnv(t, "")
	for _, cmd := range []string{"/no/such/command", "no-such-command-on-path", "/etc/passwd"} {
		id := e.create(t, e.containerConfig("bad-"+strings.Trim(strings.ReplaceAll(cmd, "/", "-"), "-"), cmd))
		if st := e.status(t, id); st.State != runtimeapi.ContainerState_CONTAINER_CREATED {
			t.Fatalf("%s: after create %v, want CREATED", cmd, st.State)
		}
		_, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id})
		if err == nil || !strings.Contains(err.Error(), cmd) {
			t.Fatalf("%s: StartContainer: %v, want an error naming the command", cmd, err)
		}
		st := e.status(t, id)
		if st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 128 || st.Reason != "StartError" ||
			!strings.Contains(st.Message, cmd) || st.FinishedAt < st.CreatedAt {
			t.Fatalf("%s: status %v exit %d reason %q message %q created %d finished %d", cmd, st.State, st.ExitCode, st.Reason, st.Message, st.CreatedAt, st.FinishedAt)
		}
		if _, err := e.d.rt.StopContainer(ctxT(t, time.Minute), &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 1}); err != nil {
			t.Fatalf("%s: StopContainer: %v", cmd, err)
		}
		if _, err := e.d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
			t.Fatalf("%s: RemoveContainer: %v", cmd, err)
		}
		if _, err := e.d.rt.ContainerStatus(ctxT(t, 10*time.Second), &runtimeapi.ContainerStatusRequest{ContainerId: id}); err == nil {
			t.Fatalf("%s: status after remove succeeded", cmd)
		}
	}
	// One left when the pod stops is removed with it, as the kubelet does.
	id := e.create(t, e.containerConfig("bad-left", "/no/such/command"))
	if _, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id}); err == nil {
		t.Fatal("StartContainer of a missing command succeeded")
	}
	if _, err := e.d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if st := e.status(t, id); st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.Reason != "StartError" {
		t.Fatalf("after the pod stopped: %v %q", st.State, st.Reason)
	}
	if _, err := e.d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("RemoveContainer after the pod stopped: %v", err)
	}
	if _, err := e.d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: e.pod}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
}

// A container created while its pod is being removed is either refused or
// removed with the pod: never left behind in a pod that is gone.
func TestCreateRacingPodRemovalLeavesNoOrphan(t *testing.T) {
	e := newPodEnv(t, "")
	pn := e.d.net
	for i := 0; i < 8; i++ {
		cfg := podConfig(fmt.Sprintf("race-%d", i))
		cfg.LogDirectory = t.TempDir()
		pod := runPod(t, e.d, cfg)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			// Refused (NotFound, FailedPrecondition) or created: both fine.
			e.d.rt.CreateContainer(ctxT(t, time.Minute), &runtimeapi.CreateContainerRequest{
				PodSandboxId: pod, Config: e.containerConfig("c", "sleep", "60"), SandboxConfig: cfg})
		}()
		go func() {
			defer wg.Done()
			// Land the teardown inside the create (which takes tens of
			// milliseconds): the window where an unordered create is lost.
			time.Sleep(time.Duration(5*(i+1)) * time.Millisecond)
			if _, err := e.d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod}); err != nil {
				t.Errorf("stop: %v", err)
			}
			if _, err := e.d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod}); err != nil {
				t.Errorf("remove: %v", err)
			}
		}()
		wg.Wait()
		resp, err := e.d.rt.ListContainers(ctxT(t, 10*time.Second), &runtimeapi.ListContainersRequest{
			Filter: &runtimeapi.ContainerFilter{PodSandboxId: pod}})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Containers) != 0 {
			t.Fatalf("round %d: %d containers left in a removed pod", i, len(resp.Containers))
		}
	}
	// Only the env's own pod remains.
	e.d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: e.pod})
	e.d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: e.pod})
	assertNothingLeft(t, e.d, pn, nil)
}
