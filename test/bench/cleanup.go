// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// cleanup removes everything the run made, in an order where each step
// still has what it needs: pods through the daemon (it alone knows how to
// free their IPs and rules), then the daemon and the registry, then any
// remains by hand, then the network and the dirs. Every step runs even if
// an earlier one failed, and each is bounded.
func (e *env) cleanup() error {
	fmt.Fprintln(os.Stderr, "bench: cleaning up")
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if e.conn != nil {
		if e.daemon != nil && !e.daemon.exited() {
			note(e.removeAllPods())
		}
		e.conn.Close()
	}
	note(e.daemon.stop(20 * time.Second))
	note(e.ref.stop(e))
	note(e.registry.stop(10 * time.Second))
	if e.keepLogs != "" {
		note(e.saveLogs(e.keepLogs))
	}
	e.reapRemains()
	note(unmountBelow(e.work))
	// The bench lock is held: the bridge, the fence and rules on the
	// bench subnet are this run's. Rules still there now leaked (the leak
	// check has reported them) or were cut short by an interruption.
	note(removeNetwork())
	if n, err := removeSubnetMasq(); n > 0 {
		e.notes = append(e.notes, fmt.Sprintf("clean-up: removed masquerade rules podshim left for %d pods", n))
	} else {
		note(err)
	}
	if e.work != "" {
		note(os.RemoveAll(e.work))
	}
	if e.lock != nil {
		e.lock.Close()
	}
	return errors.Join(errs...)
}

// removeAllPods removes every pod the daemon still has, as `crictl rmp
// -fa` would: an interrupted phase leaves some. It lists again until the
// list comes back empty, in case a pod appeared meanwhile.
func (e *env) removeAllPods() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for pass := 0; pass < 3; pass++ {
		resp, err := e.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		if err != nil {
			return fmt.Errorf("list pods: %w", err)
		}
		if len(resp.Items) == 0 {
			return nil
		}
		errs = errs[:0]
		for _, p := range resp.Items {
			errs = append(errs, e.removePod(ctx, p.Id))
		}
	}
	return errors.Join(errs...)
}

// reapRemains ends what a failed removal left running: containers through
// runc (processes and cgroups), then monitors and pauses of this run, by
// pid (processes this run started, through its daemon), then the pods'
// cgroups.
func (e *env) reapRemains() {
	if e.state == "" {
		return
	}
	runc := filepath.Join(e.bin, "runc")
	runcRoot := filepath.Join(e.state, "runc")
	if out, err := exec.Command(runc, "--root", runcRoot, "list", "-q").Output(); err == nil {
		for _, id := range strings.Fields(string(out)) {
			exec.Command(runc, "--root", runcRoot, "delete", "--force", id).Run()
		}
	}
	for ref := range monitors(e.state) {
		syscall.Kill(ref.Pid, syscall.SIGKILL)
	}
	ids := map[string]bool{}
	for _, p := range e.pods {
		if p.Pause.alive() {
			syscall.Kill(p.Pause.Pid, syscall.SIGKILL)
		}
		ids[p.ID] = true
		for _, c := range p.Containers {
			ids[c] = true
		}
	}
	// Empty cgroups runc no longer knows about (the leak check has named
	// them); rmdir refuses any that still holds a process.
	for _, cg := range leftCgroups(ids) {
		os.Remove(cg)
	}
}

// unmountBelow lazily unmounts everything below dir, deepest first, so the
// dir can be removed: rootfs overlays, shm, netns pins a failed removal
// left, and the daemon's own mounts.
func unmountBelow(dir string) error {
	if dir == "" {
		return nil
	}
	points, err := mountsBelow(dir)
	if err != nil {
		return err
	}
	slices.Reverse(points)
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
