// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/containernetworking/cni/libcni"

	"github.com/podshim/podshim/pkg/atomicfile"
	"github.com/podshim/podshim/pkg/keylock"
)

// Defaults for Options fields left empty.
const (
	DefaultConfDir  = "/etc/cni/net.d"
	DefaultBinDir   = "/opt/cni/bin"
	DefaultStateDir = "/var/lib/podshim/network"
	// DefaultSubnet is podshim's own /16, next to containerd's 10.88.0.0/16,
	// so both runtimes can share a host without handing out the same IPs.
	DefaultSubnet = "10.89.0.0/16"
	DefaultBridge = "podshim0"
)

// Options configures a Manager.
type Options struct {
	// ConfDir holds the CNI network configurations (.conflist, .conf, .json).
	ConfDir string
	// BinDirs are searched, in order, for CNI plugin binaries.
	BinDirs []string
	// StateDir holds everything this package keeps on disk (see the package
	// documentation). It should live on persistent storage together with
	// the IP leases, so intents and leases survive or vanish together.
	StateDir string
	// DefaultSubnet is used by the conflist written when ConfDir is empty.
	// It may hold one IPv4 and one IPv6 CIDR separated by a comma.
	DefaultSubnet string
	// DefaultBridge names the bridge of that default conflist.
	DefaultBridge string
}

// Manager creates pod network namespaces and attaches them to the network.
// Its methods are safe for concurrent use; calls for the same pod are
// serialized.
type Manager struct {
	confDir       string
	binDirs       []string
	netnsDir      string
	intentDir     string
	ipamDir       string
	ownerRecord   string
	defaultSubnet []string
	defaultBridge string

	cni   *libcni.CNIConfig
	pods  keylock.Set
	confM sync.Mutex // serializes writes of the default conflist
}

// New prepares the state directories and, when ConfDir holds no network
// configuration at all, writes podshim's default conflist there.
func New(opts Options) (*Manager, error) {
	if opts.ConfDir == "" {
		opts.ConfDir = DefaultConfDir
	}
	if len(opts.BinDirs) == 0 {
		opts.BinDirs = []string{DefaultBinDir}
	}
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.DefaultSubnet == "" {
		opts.DefaultSubnet = DefaultSubnet
	}
	if opts.DefaultBridge == "" {
		opts.DefaultBridge = DefaultBridge
	}
	subnets, err := parseCIDRs(opts.DefaultSubnet)
	if err != nil {
		return nil, fmt.Errorf("default subnet: %w", err)
	}
	if err := validBridgeName(opts.DefaultBridge); err != nil {
		return nil, err
	}

	// Absolute paths: they are handed to plugins and stored in intents, and
	// must mean the same thing whatever the working directory.
	confDir, err := filepath.Abs(opts.ConfDir)
	if err != nil {
		return nil, fmt.Errorf("conf dir: %w", err)
	}
	stateDir, err := filepath.Abs(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	binDirs := make([]string, 0, len(opts.BinDirs))
	for _, d := range opts.BinDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("bin dir: %w", err)
		}
		binDirs = append(binDirs, abs)
	}

	m := &Manager{
		confDir:       confDir,
		binDirs:       binDirs,
		netnsDir:      filepath.Join(stateDir, "netns"),
		intentDir:     filepath.Join(stateDir, "intents"),
		ipamDir:       filepath.Join(stateDir, "host-local"),
		ownerRecord:   filepath.Join(stateDir, "default-network.json"),
		defaultSubnet: subnets,
		defaultBridge: opts.DefaultBridge,
	}
	cacheDir := filepath.Join(stateDir, "cni-cache")
	for _, d := range []string{stateDir, m.netnsDir, m.intentDir, m.ipamDir, cacheDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create state directory: %w", err)
		}
	}
	if err := atomicfile.RemoveStaleTemps(m.intentDir); err != nil {
		return nil, err
	}
	// The exec is given, not left to libcni: it fills a nil one in lazily on
	// first use, unsynchronised, and concurrent RunPodSandboxes race on it
	// (the race detector's e2e run found it); ours also ties each plugin's
	// life to podshim's (pluginexec.go).
	m.cni = libcni.NewCNIConfigWithCacheDir(binDirs, cacheDir, &pluginExec{})

	if err := m.ensureDefaultConfig(); err != nil {
		return nil, err
	}
	return m, nil
}
