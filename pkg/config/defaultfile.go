// SPDX-License-Identifier: Apache-2.0

package config

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/pelletier/go-toml/v2"
)

// defaultFile is the commented config `podshim config default` prints and
// `make install` puts at /etc/podshim/config.toml. Its values come from
// Default(), so the text can never disagree with the built-in defaults;
// keys whose default is empty are shown commented out, with an example.
// A test loads it back and compares it with Default(), and checks that every
// key of Config appears in it.
const defaultFile = `# podshim configuration ({{.Path}}).
# Every key is optional: the values below are the built-in defaults, and a
# node runs with no file at all. Unknown keys are refused, naming the key.
# podshim config dump prints what a daemon would use (file, then flags).

# Persistent data: images, layers, pod and container records.
root = {{q .C.Root}}
# Runtime state that does not survive a reboot: runc state, monitor sockets.
state = {{q .C.State}}
# The CRI unix socket (mode 0660) the kubelet and crictl dial.
listen = {{q .C.Listen}}
# "cgroupfs" or "systemd"; reported to the kubelet through RuntimeConfig, so
# set the kubelet's cgroupDriver to the same value.
cgroup_driver = {{q .C.CgroupDriver}}
# Binaries podshim runs. Empty: the ones installed beside podshim, else $PATH.
runc_path = {{q .C.RuncPath}}
pause_path = {{q .C.PausePath}}
# The runtime handler of pods with no RuntimeClass. Built in: "runc" (the
# pinned runc, runc_path) and, where Debian's crun package installed
# /usr/bin/crun, "crun".
default_runtime = {{q .C.DefaultRuntime}}
# Where exec, attach and port-forward streams are served; port 0 picks a free
# one. Loopback: the kubelet on this node proxies them.
stream_server_address = {{q .C.StreamServerAddress}}
# Prometheus metrics (/metrics) on this TCP address, e.g. "127.0.0.1:9153".
# Empty turns metrics off.
metrics_address = {{q .C.MetricsAddress}}

# More runtime handlers, each named by a RuntimeClass's handler (a DNS
# label); a table named runc or crun overrides the built-in one, e.g.
# [runtimes.test-handler]
# binary = "/usr/bin/crun"   # runc's command line; empty: bin/NAME, else $PATH
# root = ""                  # --root; empty: <state>/runtimes/NAME
# cgroup_driver = ""         # may only repeat cgroup_driver

[image]
# A pull fails when no byte arrived for this long (the error names the layer).
progress_timeout = {{q .C.Image.ProgressTimeout}}
# Layers fetched at once per pull.
max_concurrent_downloads = {{.C.Image.MaxConcurrentDownloads}}
# Images reported "pinned", so the kubelet's image garbage collection keeps
# them: references ("registry.k8s.io/pause:3.10", normalised as pulls are)
# or glob patterns matched against the full names ListImages shows, where
# '*' matches any run of characters ('/' too) and '?' one character, e.g.
# ["registry.k8s.io/pause:*", "*/e2e-test-images/*"].
pinned_images = {{q .C.Image.PinnedImages}}

# Endpoints tried in order before a registry host itself, e.g.
# [registry.mirrors]
# "registry.k8s.io" = ["http://127.0.0.1:5000"]

# Transport settings per "host[:port]", e.g.
# [registry.hosts."127.0.0.1:5000"]
# insecure = true                         # plain HTTP, or TLS without verification
# ca_file = "/etc/podshim/certs/ca.pem"   # trusted on top of the system's CAs
# localhost and 127.0.0.1 registries may use plain HTTP without settings.

[cni]
# Network configs; when this holds none, podshim writes its default bridge
# network here.
conf_dir = {{q .C.CNI.ConfDir}}
# Plugin directories searched in order. Empty: cni/ beside podshim, then
# /opt/cni/bin.
bin_dirs = {{q .C.CNI.BinDirs}}
# The default network's pod range ("v4cidr,v6cidr" for dual-stack pods):
# podshim's own /16, clear of containerd's 10.88/16.
default_subnet = {{q .C.CNI.DefaultSubnet}}
# The default network's bridge device.
default_bridge = {{q .C.CNI.DefaultBridge}}

[nri]
# The Node Resource Interface: plugins hear of every pod and container
# event and may adjust containers before they are created. Off by default.
enable = {{q .C.NRI.Enable}}
# Where external plugins connect (containerd's default path: run one NRI
# runtime per node, or give each its own socket).
socket_path = {{q .C.NRI.SocketPath}}
# Plugins podshim starts itself, and their drop-in configuration.
plugin_path = {{q .C.NRI.PluginPath}}
plugin_config_path = {{q .C.NRI.PluginConfigPath}}
# Only the plugins above, no socket.
disable_connections = {{q .C.NRI.DisableConnections}}
# Bounds on a plugin's registration and on each hook it answers.
plugin_registration_timeout = {{q .C.NRI.RegistrationTimeout}}
plugin_request_timeout = {{q .C.NRI.RequestTimeout}}
`

// DefaultFile returns the built-in configuration as a commented TOML file.
func DefaultFile() ([]byte, error) {
	t, err := template.New("config").Funcs(template.FuncMap{"q": tomlValue}).Parse(defaultFile)
	if err != nil {
		return nil, fmt.Errorf("default config template: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, struct {
		Path string
		C    Config
	}{DefaultPath, Default()}); err != nil {
		return nil, fmt.Errorf("default config template: %w", err)
	}
	return b.Bytes(), nil
}

// Marshal writes cfg as TOML, every key present: `podshim config dump`.
func Marshal(cfg Config) ([]byte, error) {
	b, err := toml.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return b, nil
}

// tomlValue writes one value in TOML notation (quoting and escaping
// strings), by encoding it as the only key of a table.
func tomlValue(v any) (string, error) {
	if s, ok := v.([]string); ok && s == nil {
		v = []string{} // go-toml omits a nil slice's value; an empty array keeps the key
	}
	b, err := toml.Marshal(map[string]any{"v": v})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.TrimPrefix(string(b), "v = ")), nil
}
