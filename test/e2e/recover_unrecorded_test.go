// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// moveFile renames src to dst, failing the test on error.
func moveFile(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.Rename(src, dst); err != nil {
		t.Fatal(err)
	}
}

func processAlive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

// waitGone waits (bounded) for a process or a path to disappear.
func waitGone(t *testing.T, what string, gone func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !gone(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there", what)
		}
	}
}

// A record can go missing while its pod runs: a power loss before the
// record reached the disk, a root restored from an old backup, a slip of an
// operator's hand. Start-up recovery must not then tear down a pod whose
// pause runs, nor a container that runs: it keeps them and says so, and once
// the records are back podshim manages them as before.
func TestRecoveryKeepsWhatRunsWithoutARecord(t *testing.T) {
	e := newPodEnv(t, "")
	d := e.d
	ctr := e.run(t, "sleeper", "sleep", "3600")
	e.waitState(t, ctr, runtimeapi.ContainerState_CONTAINER_RUNNING)
	_, info := podStatus(t, d, e.pod)

	d.kill()
	aside := t.TempDir()
	podRec := filepath.Join(d.dir, "root", "sandboxes", e.pod+".json")
	ctrRec := filepath.Join(d.dir, "root", "container-records", ctr+".json")
	moveFile(t, podRec, filepath.Join(aside, "pod.json"))
	moveFile(t, ctrRec, filepath.Join(aside, "ctr.json"))

	d.start()
	pods, err := d.rt.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 0 {
		t.Fatalf("pods listed without a record: %v", pods.Items)
	}
	if !processAlive(info.Pid) {
		t.Fatalf("recovery killed the pause (pid %d) of a running pod whose record is missing", info.Pid)
	}
	if _, err := os.Stat(info.NetNamespace); err != nil {
		t.Fatalf("recovery removed the netns of a running pod whose record is missing: %v", err)
	}
	d.kill()
	log := d.log.String()
	for _, want := range []string{
		"pod " + e.pod + " has no record but its pause (pid",
		"runc container " + ctr + " runs (pid",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("recovery did not report %q; log:\n%s", want, log)
		}
	}

	moveFile(t, filepath.Join(aside, "pod.json"), podRec)
	moveFile(t, filepath.Join(aside, "ctr.json"), ctrRec)
	d.start()
	if st, _ := podStatus(t, d, e.pod); st.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Fatalf("pod with its record back: %v, want READY", st.State)
	}
	if st := e.status(t, ctr); st.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("container with its record back: %v, want RUNNING", st.State)
	}
	removePod(t, d, e.pod)
	waitGone(t, "the pause of the removed pod", func() bool { return !processAlive(info.Pid) })
}

// A crash between starting a pod's pause and writing its record leaves a
// running pause that no record owns, in a directory still marked as being
// created: that pod never existed for the kubelet, and recovery undoes it
// all, pause and netns included.
func TestRecoveryUndoesAnInterruptedRunPodSandbox(t *testing.T) {
	d := startDaemon(t, "")
	id := runPod(t, d, podConfig("interrupted"))
	_, info := podStatus(t, d, id)

	d.kill()
	moveFile(t, filepath.Join(d.dir, "root", "sandboxes", id+".json"), filepath.Join(t.TempDir(), "pod.json"))
	dir := filepath.Join(d.dir, "state", "sandboxes", id)
	if err := os.WriteFile(filepath.Join(dir, "creating"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	d.start()
	waitGone(t, "the pause of the interrupted pod", func() bool { return !processAlive(info.Pid) })
	for _, p := range []string{info.NetNamespace, dir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s of the interrupted pod survived recovery: %v", p, err)
		}
	}
}
