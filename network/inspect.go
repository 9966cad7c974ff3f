// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"path/filepath"
)

// NetworkInfo describes the network new pods would join.
type NetworkInfo struct {
	// File is the config chosen, or "" when ConfDir holds none and podshim
	// would write its default network there on start.
	File string
	// Name is the network's name.
	Name string
	// Plugins are the plugin types the network runs, IPAM included.
	Plugins []string
}

// defaultPlugins are the plugin types of the conflist defaultConfList writes.
var defaultPlugins = []string{"bridge", "host-local", "portmap"}

// Inspect reports, without writing anything, the network New and Setup
// would use with confDir and binDirs: the same choice as currentNetwork,
// including the check that every plugin binary is installed. `podshim
// doctor` uses it before a daemon ever ran.
func Inspect(confDir string, binDirs []string) (NetworkInfo, error) {
	m := &Manager{confDir: confDir, binDirs: binDirs}
	files, err := confFiles(confDir)
	if err != nil {
		return NetworkInfo{}, err
	}
	if len(files) == 0 {
		info := NetworkInfo{Name: DefaultNetworkName, Plugins: defaultPlugins}
		for _, t := range defaultPlugins {
			if _, err := findPlugin(t, binDirs); err != nil {
				return info, fmt.Errorf("default network %q (written to %s on start): %w", DefaultNetworkName, filepath.Join(confDir, DefaultConfFile), err)
			}
		}
		return info, nil
	}
	n, err := m.currentNetwork()
	if err != nil {
		return NetworkInfo{}, err
	}
	info := NetworkInfo{File: n.file, Name: n.list.Name}
	for _, p := range n.list.Plugins {
		info.Plugins = append(info.Plugins, p.Network.Type)
		if p.Network.IPAM.Type != "" {
			info.Plugins = append(info.Plugins, p.Network.IPAM.Type)
		}
	}
	return info, nil
}
