// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A crash between starting a pod's monitor and writing the pod's record
// (RunPodSandbox starts the monitor first) leaves a monitor no record
// owns. Start-up recovery removes that pod's directory, socket included:
// it must end the monitor too, or the monitor waits for ever.
func TestRecoveryEndsTheMonitorOfAnUnrecordedPod(t *testing.T) {
	d := startDaemon(t, "")
	d.kill()

	id := strings.Repeat("ab", 32)
	dir := filepath.Join(d.dir, "state", "sandboxes", id, "monitor")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	mon := exec.Command(d.bin, "monitor", "--dir", dir, "--runc", "/bin/false",
		"--runc-root", filepath.Join(d.dir, "state", "runc"))
	mon.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := mon.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { mon.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			mon.Process.Kill()
			<-exited
		}
	})
	sock := filepath.Join(dir, "monitor.sock")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the monitor did not listen on %s", sock)
		}
	}

	d.start()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the monitor (pid %d) of unrecorded pod %s outlived recovery", mon.Process.Pid, id)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Fatalf("pod dir of unrecorded pod: %v", err)
	}
}
