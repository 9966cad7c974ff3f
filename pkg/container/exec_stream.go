// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	utilexec "k8s.io/utils/exec"

	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/records"
)

// execGrace is how long a cancelled exec gets after SIGTERM before SIGKILL.
const execGrace = 2 * time.Second

// Exec runs cmd in a running container with its stdio streamed to the
// caller, as `kubectl exec` / `crictl exec` do, and returns an error
// carrying the command's exit code when it is not zero. With tty, stderr
// joins stdout and resize events size the terminal.
func (m *Manager) Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan monitor.TerminalSize) error {
	if len(cmd) == 0 {
		return fmt.Errorf("%w: exec command is empty", ErrInvalid)
	}
	r, err := m.running(ctx, id)
	if err != nil {
		return err
	}
	var spec specs.Spec
	if err := json.Unmarshal(r.Spec, &spec); err != nil || spec.Process == nil {
		return fmt.Errorf("exec in %s: spec: %v", r.ID, err)
	}
	p := *spec.Process
	p.Args = cmd
	p.Terminal = tty
	procFile, err := writeProcess(r.Bundle, &p)
	if err != nil {
		return fmt.Errorf("exec in %s: %w", r.ID, err)
	}
	defer os.Remove(procFile)

	args := []string{"exec", "--process", procFile}
	if tty {
		args = append(args, "--tty")
	}
	rt, err := m.sandboxes.Runtime(r.SandboxID)
	if err != nil {
		return fmt.Errorf("exec in %s: %w", r.ID, err)
	}
	c := rt.Command(ctx, append(args, r.ID)...)
	c.Stdin, c.Stdout, c.Stderr = stdin, stdout, stderr
	// A cancelled stream (client gone) asks the process to stop; runc
	// forwards SIGTERM into the container, and SIGKILL ends runc itself.
	c.Cancel = func() error { return c.Process.Signal(syscall.SIGTERM) }
	c.WaitDelay = execGrace
	if tty {
		err = runWithTerminal(c, stdin, stdout, resize)
	} else {
		err = c.Run()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() >= 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command %v in %s exited with %d", cmd, r.ID, exitErr.ExitCode()), Code: exitErr.ExitCode()}
	}
	if err != nil {
		return fmt.Errorf("exec in %s: %w", r.ID, err)
	}
	return nil
}

// runWithTerminal runs a foreground `runc exec --tty`. runc relays the
// container's terminal to its own, so it is given one: the slave of a pty
// whose master podshim copies to and from the stream. The slave is runc's
// controlling terminal, so sizing the master signals runc to resize the
// container's terminal.
func runWithTerminal(c *exec.Cmd, stdin io.Reader, stdout io.Writer, resize <-chan monitor.TerminalSize) error {
	master, slavePath, err := console.NewPty()
	if err != nil {
		return fmt.Errorf("allocate a terminal: %w", err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", slavePath, err)
	}
	c.Stdin, c.Stdout, c.Stderr = slave, slave, slave
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = c.Start()
	slave.Close() // runc holds it now; the master sees EIO once runc is gone
	if err != nil {
		return err
	}
	if stdin != nil {
		go io.Copy(master, stdin)
	}
	go func() {
		for size := range resize {
			master.Resize(console.WinSize{Height: size.Height, Width: size.Width})
		}
	}()
	copied := make(chan struct{})
	go func() {
		io.Copy(stdout, master)
		close(copied)
	}()
	err = c.Wait()
	// Output still buffered in the terminal arrives before EIO.
	select {
	case <-copied:
	case <-time.After(execGrace):
	}
	return err
}

// writeProcess stores an exec's process spec for `runc exec --process`.
func writeProcess(bundle string, p *specs.Process) (string, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	path := filepath.Join(bundle, "exec-"+records.NewID()[:16]+".json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", err
	}
	return path, nil
}
