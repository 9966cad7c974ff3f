// SPDX-License-Identifier: Apache-2.0

// Package config holds podshim's settings: a TOML file whose every key has a
// built-in default, so a node runs with no file at all.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Default locations, as documented in the README.
const (
	DefaultPath   = "/etc/podshim/config.toml"
	DefaultRoot   = "/var/lib/podshim"
	DefaultState  = "/run/podshim"
	DefaultListen = "/run/podshim/podshim.sock"
)

// Config is the whole configuration file.
type Config struct {
	// Root holds persistent data: images, metadata.
	Root string `toml:"root"`
	// State holds runtime data that does not survive a reboot.
	State string `toml:"state"`
	// Listen is the path of the CRI unix socket.
	Listen string `toml:"listen"`
	// CgroupDriver is "cgroupfs" or "systemd"; reported to the kubelet
	// through the RuntimeConfig RPC so it never has to guess.
	CgroupDriver string `toml:"cgroup_driver"`

	// RuncPath and PausePath name the binaries podshim runs; empty means
	// the ones built beside the podshim binary, else runc from $PATH.
	// RuncPath is the binary of the built-in runc handler.
	RuncPath  string `toml:"runc_path"`
	PausePath string `toml:"pause_path"`
	// DefaultRuntime is the handler of pods that ask for none (the empty
	// runtime_handler, i.e. no RuntimeClass).
	DefaultRuntime string `toml:"default_runtime"`
	// Runtimes are runtime handlers beside the built-in ones (see
	// RuntimeHandlers); a RuntimeClass's handler names one.
	Runtimes map[string]Runtime `toml:"runtimes"`
	// StreamServerAddress is where exec, attach and port-forward streams
	// are served; port 0 picks a free one. Loopback by default: the kubelet
	// on this node proxies them.
	StreamServerAddress string `toml:"stream_server_address"`
	// MetricsAddress serves Prometheus metrics over HTTP at /metrics when
	// set ("127.0.0.1:9153"); empty, the default, turns them off.
	MetricsAddress string `toml:"metrics_address"`

	Image    Image    `toml:"image"`
	Registry Registry `toml:"registry"`
	CNI      CNI      `toml:"cni"`
	NRI      NRI      `toml:"nri"`
}

// Runtime is one runtime handler: an OCI runtime with runc's command line.
type Runtime struct {
	// Binary is the runtime's executable; empty means one named like the
	// handler beside the podshim binary, else in $PATH.
	Binary string `toml:"binary"`
	// Root is the runtime's state root (--root); empty means
	// <state>/runc for the runc handler, <state>/runtimes/<name> otherwise.
	Root string `toml:"root"`
	// CgroupDriver may only repeat the top-level cgroup_driver: the kubelet
	// is told one driver (RuntimeConfig) and lays out every pod's cgroup
	// parent for it, so a handler with another would misplace pods.
	CgroupDriver string `toml:"cgroup_driver"`
}

// CrunBinary is where Debian's crun package installs crun; when it is
// there, crun is a built-in handler.
const CrunBinary = "/usr/bin/crun"

// CNI locates pod network configuration and plugins.
type CNI struct {
	// ConfDir holds network configs; when it has none podshim writes its
	// default bridge network there.
	ConfDir string `toml:"conf_dir"`
	// BinDirs are searched for plugins; empty means the plugins built beside
	// the podshim binary, then /opt/cni/bin.
	BinDirs []string `toml:"bin_dirs"`
	// DefaultSubnet is the default network's pod range: podshim's own /16,
	// so it can run beside containerd (10.88/16) on one node.
	DefaultSubnet string `toml:"default_subnet"`
	// DefaultBridge is the default network's bridge device.
	DefaultBridge string `toml:"default_bridge"`
}

// NRI configures the Node Resource Interface: plugins that hear of every
// pod and container lifecycle event and may adjust a container before it
// is created. Off by default: a plugin sits on the path of every RPC.
type NRI struct {
	Enable bool `toml:"enable"`
	// SocketPath is where external plugins connect.
	SocketPath string `toml:"socket_path"`
	// PluginPath holds plugins podshim starts itself; PluginConfigPath
	// their drop-in configuration.
	PluginPath       string `toml:"plugin_path"`
	PluginConfigPath string `toml:"plugin_config_path"`
	// DisableConnections: only the plugins podshim starts, no socket.
	DisableConnections bool `toml:"disable_connections"`
	// RegistrationTimeout bounds a plugin's registration and first
	// synchronisation; RequestTimeout each hook it answers.
	RegistrationTimeout Duration `toml:"plugin_registration_timeout"`
	RequestTimeout      Duration `toml:"plugin_request_timeout"`
}

// Image tunes image pulls.
type Image struct {
	// ProgressTimeout cancels a pull when no byte arrived for this long.
	ProgressTimeout Duration `toml:"progress_timeout"`
	// MaxConcurrentDownloads bounds the layers fetched at once per pull.
	MaxConcurrentDownloads int `toml:"max_concurrent_downloads"`
	// PinnedImages are references or glob patterns ('*' any run of
	// characters, '?' one) of images reported pinned, which the kubelet's
	// image garbage collection never removes.
	PinnedImages []string `toml:"pinned_images"`
}

// Registry holds mirrors and per-host transport settings.
type Registry struct {
	// Mirrors maps a registry host ("docker.io", "registry.k8s.io") to
	// endpoints ("http://127.0.0.1:5000") tried in order before it.
	Mirrors map[string][]string `toml:"mirrors"`
	// Hosts maps "host[:port]" to its transport settings.
	Hosts map[string]Host `toml:"hosts"`
}

// Host is the transport setting of one registry host.
type Host struct {
	// Insecure allows plain HTTP, or TLS without certificate verification.
	Insecure bool `toml:"insecure"`
	// CAFile is a PEM bundle trusted for this host on top of the system's.
	CAFile string `toml:"ca_file"`
}

// Duration is a time.Duration written as "90s" or "1m" in TOML.
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Go's notation.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// Default returns the built-in configuration.
func Default() Config {
	return Config{
		Root:                DefaultRoot,
		State:               DefaultState,
		Listen:              DefaultListen,
		CgroupDriver:        "cgroupfs",
		DefaultRuntime:      "runc",
		StreamServerAddress: "127.0.0.1:0",
		Image: Image{
			ProgressTimeout:        Duration(time.Minute),
			MaxConcurrentDownloads: 3,
		},
		CNI: CNI{ConfDir: "/etc/cni/net.d", DefaultSubnet: "10.89.0.0/16", DefaultBridge: "podshim0"},
		NRI: NRI{
			SocketPath: "/var/run/nri/nri.sock", PluginPath: "/opt/nri/plugins", PluginConfigPath: "/etc/nri/conf.d",
			RegistrationTimeout: Duration(5 * time.Second), RequestTimeout: Duration(2 * time.Second),
		},
	}
}

// Load reads path on top of the defaults. A missing file is not an error
// when it is the default path: every key has a default.
func Load(path string, explicit bool) (Config, error) {
	cfg := Default()
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !explicit {
			return cfg, nil
		}
		return cfg, fmt.Errorf("read config: %w", err)
	}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a misspelt key should fail loudly, not be ignored
	if err := dec.Decode(&cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return cfg, fmt.Errorf("config %s: unknown keys:\n%s", path, strict.String())
		}
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch c.CgroupDriver {
	case "cgroupfs", "systemd":
	default:
		return fmt.Errorf("cgroup_driver %q: want cgroupfs or systemd", c.CgroupDriver)
	}
	if c.MetricsAddress != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddress); err != nil {
			return fmt.Errorf("metrics_address %q: want host:port: %w", c.MetricsAddress, err)
		}
	}
	if err := c.validateRuntimes(); err != nil {
		return err
	}
	if c.Image.ProgressTimeout <= 0 {
		return fmt.Errorf("image.progress_timeout must be positive")
	}
	if c.Image.MaxConcurrentDownloads < 1 {
		return fmt.Errorf("image.max_concurrent_downloads must be at least 1")
	}
	for i, p := range c.Image.PinnedImages {
		if strings.TrimSpace(p) == "" {
			return fmt.Errorf("image.pinned_images[%d] is empty", i)
		}
	}
	if c.NRI.Enable {
		if c.NRI.SocketPath == "" && !c.NRI.DisableConnections {
			return fmt.Errorf("nri.socket_path is empty")
		}
		if c.NRI.RegistrationTimeout <= 0 || c.NRI.RequestTimeout <= 0 {
			return fmt.Errorf("nri.plugin_registration_timeout and nri.plugin_request_timeout must be positive")
		}
	}
	// "v4cidr" or, for dual-stack pods, "v4cidr,v6cidr".
	for _, cidr := range strings.Split(c.CNI.DefaultSubnet, ",") {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(cidr)); err != nil {
			return fmt.Errorf("cni.default_subnet: %w", err)
		}
	}
	for host, endpoints := range c.Registry.Mirrors {
		for _, ep := range endpoints {
			u, err := url.Parse(ep)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return fmt.Errorf("registry.mirrors.%q: endpoint %q: want http(s)://host[:port]", host, ep)
			}
			if strings.Trim(u.Path, "/") != "" {
				return fmt.Errorf("registry.mirrors.%q: endpoint %q: a path prefix is not supported", host, ep)
			}
		}
	}
	for host, h := range c.Registry.Hosts {
		if h.CAFile != "" {
			if _, err := os.Stat(h.CAFile); err != nil {
				return fmt.Errorf("registry.hosts.%q: ca_file: %w", host, err)
			}
		}
	}
	return nil
}
