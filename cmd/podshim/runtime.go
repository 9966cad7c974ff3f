// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/config"
	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/cri"
	"github.com/podshim/podshim/pkg/phase"
	"github.com/podshim/podshim/pkg/runc"
	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

// recoveryTimeout bounds start-up recovery of what a crash interrupted.
const recoveryTimeout = 2 * time.Minute

// besideMe names a file next to the podshim binary: `make` builds runc,
// pause and the CNI plugins into the same bin/ directory.
func besideMe(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return filepath.Join(filepath.Dir(exe), name)
}

// findBinary resolves a configured path, else the copy beside podshim, else
// $PATH.
func findBinary(configured, name string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if p := besideMe(name); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found beside podshim or in $PATH (make tools builds it)", name)
	}
	return p, nil
}

// cniBinDirs are the configured plugin directories, else the plugins built
// beside podshim, then /opt/cni/bin.
func cniBinDirs(cfg config.Config) []string {
	if len(cfg.CNI.BinDirs) > 0 {
		return cfg.CNI.BinDirs
	}
	return []string{besideMe("cni"), "/opt/cni/bin"}
}

// openRuntime builds the sandbox machinery: runc, CNI and the pods' records,
// then finishes or undoes whatever a crash interrupted.
func openRuntime(cfg config.Config, images *storage.Store) (cri.Deps, error) {
	t := phase.Start("OpenRuntime", "")
	defer t.Done()
	pausePath, err := findBinary(cfg.PausePath, "pause")
	if err != nil {
		return cri.Deps{}, err
	}
	handlers, err := openHandlers(cfg, pausePath)
	t.Step("handlers")
	if err != nil {
		return cri.Deps{}, err
	}
	net, err := network.New(network.Options{
		ConfDir:       cfg.CNI.ConfDir,
		BinDirs:       cniBinDirs(cfg),
		StateDir:      filepath.Join(cfg.State, "network"),
		DefaultSubnet: cfg.CNI.DefaultSubnet,
		DefaultBridge: cfg.CNI.DefaultBridge,
	})
	if err != nil {
		return cri.Deps{}, fmt.Errorf("pod network: %w", err)
	}
	// The lean monitor binary beside podshim when installed, else podshim
	// itself (`podshim monitor`): same code, a quarter of the memory.
	self, err := os.Executable()
	if err != nil {
		return cri.Deps{}, fmt.Errorf("find podshim binary: %w", err)
	}
	if lean := besideMe("podshim-monitor"); lean != "" {
		if _, err := os.Stat(lean); err == nil {
			self = lean
		}
	}
	t.Step("network")
	idmapped := probeIDMappedLayers(cfg.Root)
	t.Step("idmap-probe")
	sandboxes, err := sandbox.New(sandbox.Options{
		RecordDir:      filepath.Join(cfg.Root, "sandboxes"),
		StateDir:       cfg.State,
		PauseBinary:    pausePath,
		CgroupDriver:   cfg.CgroupDriver,
		Monitor:        sandbox.MonitorOptions{Self: self},
		IDMappedLayers: idmapped,
	}, handlers, net)
	if err != nil {
		return cri.Deps{}, fmt.Errorf("sandboxes: %w", err)
	}
	containers, err := container.New(container.Options{
		RecordDir:      filepath.Join(cfg.Root, "container-records"),
		StateDir:       cfg.State,
		CgroupDriver:   cfg.CgroupDriver,
		IDMappedMounts: idmapped,
	}, images, sandboxes)
	if err != nil {
		return cri.Deps{}, fmt.Errorf("containers: %w", err)
	}
	t.Step("records")
	ctx, cancel := context.WithTimeout(context.Background(), recoveryTimeout)
	defer cancel()
	containers.Recover(ctx)
	t.Step("recover-containers")
	sandboxes.Recover(ctx, containers.IDs())
	t.Step("recover-sandboxes")
	return cri.Deps{Sandboxes: sandboxes, Containers: containers, Network: net}, nil
}

// openHandlers sets up every configured runtime handler: its binary found,
// its root made, its features asked of the binary once (and "rro" tried
// out where the binary cannot be asked; pause is the probe's process).
func openHandlers(cfg config.Config, pause string) (*runc.Handlers, error) {
	var runtimes []*runc.Runtime
	for name, h := range cfg.RuntimeHandlers() {
		if name == "crun" {
			h.Binary = builtinCrunBinary(h.Binary)
		}
		binary, err := findBinary(h.Binary, name)
		if err != nil {
			return nil, fmt.Errorf("runtime handler %s: %w", name, err)
		}
		rt, err := runc.New(context.Background(), name, binary, h.Root, h.CgroupDriver == "systemd")
		if err != nil {
			return nil, err
		}
		if err := rt.TryRecursiveReadOnly(context.Background(), pause); err != nil {
			klog.InfoS("runtime handler: cannot tell whether it applies recursive read-only mounts; taking it not to", "name", name, "err", err)
		}
		f := rt.Features()
		klog.InfoS("runtime handler", "name", name, "binary", binary, "root", h.Root,
			"featuresProbed", f.Probed, "recursiveReadOnlyMounts", f.RecursiveReadOnly, "rroByTrial", f.RecursiveReadOnlyTried, "userNamespaces", f.UserNamespaces, "probeError", f.Error)
		runtimes = append(runtimes, rt)
	}
	return runc.NewHandlers(cfg.DefaultRuntime, runtimes...)
}
