// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

const socketName = "monitor.sock"

// config is what `podshim monitor` is told on its command line.
type config struct {
	dir      string
	runc     string
	runcRoot string
	systemd  bool
}

// Main is the `podshim monitor` entry point; args are the arguments after
// the subcommand name. It returns the process's exit code. Start passes
// --ready-fd, a pipe on which the monitor says "ready" once it listens,
// or why it failed.
func Main(args []string) int {
	fs := flag.NewFlagSet("podshim monitor", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.dir, "dir", "", "the pod's monitor directory (socket, container records)")
	fs.StringVar(&cfg.runc, "runc", "runc", "runc binary")
	fs.StringVar(&cfg.runcRoot, "runc-root", "/run/podshim/runc", "runc state root")
	fs.BoolVar(&cfg.systemd, "systemd-cgroup", false, "cgroupsPath uses the systemd form")
	readyFD := fs.Int("ready-fd", -1, "descriptor to report readiness on (set by the client)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var ready *os.File
	if *readyFD >= 0 {
		ready = os.NewFile(uintptr(*readyFD), "ready")
	}
	if err := run(cfg, ready); err != nil {
		fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
		if ready != nil {
			ready.WriteString("error: " + err.Error())
			ready.Close()
		}
		return 1
	}
	return 0
}

// run serves until the pod is gone and no container is left.
func run(cfg config, ready *os.File) error {
	if cfg.dir == "" {
		return errors.New("--dir is required")
	}
	// The monitor waits on pipes and sockets; one P is plenty, and each
	// idle P and thread costs resident memory in every pod.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	dir, err := filepath.Abs(cfg.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("monitor directory: %w", err)
	}
	binary, err := exec.LookPath(cfg.runc)
	if err != nil {
		return fmt.Errorf("runc binary: %w", err)
	}
	if err := os.MkdirAll(cfg.runcRoot, 0o711); err != nil {
		return fmt.Errorf("runc root: %w", err)
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devNull.Close()
	// Children exist only after this point, so none is missed.
	r, err := newReaper()
	if err != nil {
		return err
	}
	m := &monitor{
		dir:        dir,
		runc:       &runcCLI{binary: binary, root: cfg.runcRoot, systemd: cfg.systemd, reaper: r, devNull: devNull},
		containers: map[string]*container{},
		done:       make(chan struct{}),
	}
	l, err := listen(filepath.Join(dir, socketName))
	if err != nil {
		return err
	}
	srv := &server{m: m, l: l}
	go srv.serve()

	// SIGTERM and SIGINT mean what Shutdown means: the monitor holds the
	// containers' stdio, so it stays until the last of them is gone.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	signal.Ignore(syscall.SIGHUP)
	go func() {
		<-sigs
		m.requestShutdown()
	}()

	if ready != nil {
		ready.WriteString("ready\n")
		ready.Close()
	}
	<-m.done
	l.Close()
	os.Remove(filepath.Join(dir, socketName))
	srv.drain(5 * time.Second)
	return nil
}

// listen binds the monitor's socket, refusing if another monitor answers
// on it and clearing a stale one left by a monitor that died.
func listen(path string) (*net.UnixListener, error) {
	if pingSocket(path) == nil {
		return nil, fmt.Errorf("a monitor already serves %s", filepath.Dir(path))
	}
	os.Remove(path)
	var l *net.UnixListener
	err := withSockPath(path, func(p string) error {
		var err error
		l, err = net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// The name bound may be a /proc/self/fd path whose descriptor is gone;
	// the socket is removed by its real path instead.
	l.SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return l, nil
}

// pingSocket reports whether a monitor answers on path.
func pingSocket(path string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var resp response
	return call(ctx, path, request{Op: opPing}, &resp)
}
