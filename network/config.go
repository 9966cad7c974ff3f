// SPDX-License-Identifier: Apache-2.0

package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/utils"
)

// confExtensions are the file kinds containerd and CRI-O read as CNI configs.
var confExtensions = []string{".conflist", ".conf", ".json"}

// ErrNoNetwork is wrapped by the error of Ready and Setup when ConfDir has
// no usable network configuration.
var ErrNoNetwork = errors.New("no usable CNI network configuration")

// network is the configuration chosen for new pods.
type network struct {
	file string
	list *libcni.NetworkConfigList
	// inlined is list with every plugin written out in "plugins", so it can
	// be stored in an intent and loaded again without ConfDir.
	inlined []byte
}

// Ready reports why pods cannot get a network yet, or nil when a usable
// configuration exists. Configs are read afresh on every call, so a
// configuration installed later (by a CNI DaemonSet, say) is picked up.
func (m *Manager) Ready() error {
	_, err := m.currentNetwork()
	return err
}

// currentNetwork picks, like containerd and CRI-O, the lexically first
// config file in ConfDir that parses and whose plugins are all installed.
func (m *Manager) currentNetwork() (*network, error) {
	files, err := confFiles(m.confDir)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: no network config found in %s", ErrNoNetwork, m.confDir)
	}
	var problems []string
	for _, f := range files {
		n, err := m.loadNetwork(f)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", filepath.Base(f), err))
			continue
		}
		return n, nil
	}
	return nil, fmt.Errorf("%w in %s: %s", ErrNoNetwork, m.confDir, strings.Join(problems, "; "))
}

func confFiles(dir string) ([]string, error) {
	files, err := libcni.ConfFiles(dir, confExtensions)
	if err != nil {
		return nil, fmt.Errorf("list CNI configs in %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

func (m *Manager) loadNetwork(file string) (*network, error) {
	var list *libcni.NetworkConfigList
	var err error
	if filepath.Ext(file) == ".conflist" {
		list, err = libcni.NetworkConfFromFile(file)
	} else {
		list, err = singlePluginList(file)
	}
	if err != nil {
		return nil, err
	}
	if verr := utils.ValidateNetworkName(list.Name); verr != nil {
		return nil, fmt.Errorf("network name %q: %s", list.Name, verr.Msg)
	}
	if err := m.pluginsInstalled(list); err != nil {
		return nil, err
	}
	inlined, err := inlinePlugins(list)
	if err != nil {
		return nil, err
	}
	return &network{file: file, list: list, inlined: inlined}, nil
}

// singlePluginList reads an old-style single-plugin .conf/.json file as a
// list of one, as CNI runtimes have always done.
func singlePluginList(file string) (*libcni.NetworkConfigList, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var head struct {
		Name       string          `json:"name"`
		CNIVersion string          `json:"cniVersion"`
		Plugins    json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if head.Plugins != nil {
		// A conflist under a .conf name, which some installers write.
		return libcni.NetworkConfFromBytes(data)
	}
	wrapped, err := json.Marshal(map[string]any{
		"name":       head.Name,
		"cniVersion": head.CNIVersion,
		"plugins":    []json.RawMessage{data},
	})
	if err != nil {
		return nil, fmt.Errorf("wrap as list: %w", err)
	}
	return libcni.NetworkConfFromBytes(wrapped)
}

// pluginsInstalled makes a config with a missing binary count as unusable,
// as CRI-O does: Ready then says which plugin is missing instead of every
// pod failing at ADD.
func (m *Manager) pluginsInstalled(list *libcni.NetworkConfigList) error {
	if len(list.Plugins) == 0 {
		return fmt.Errorf("network %q has no plugins", list.Name)
	}
	for _, p := range list.Plugins {
		types := []string{p.Network.Type}
		if p.Network.IPAM.Type != "" {
			types = append(types, p.Network.IPAM.Type)
		}
		for _, t := range types {
			if _, err := findPlugin(t, m.binDirs); err != nil {
				return fmt.Errorf("network %q: %w", list.Name, err)
			}
		}
	}
	return nil
}

func findPlugin(typ string, binDirs []string) (string, error) {
	p, err := invoke.FindInPath(typ, binDirs)
	if err != nil {
		return "", fmt.Errorf("plugin %q not found in %s", typ, strings.Join(binDirs, ":"))
	}
	return p, nil
}

// inlinePlugins renders list as one self-contained conflist: plugins that
// libcni loaded from a side directory are written into "plugins", and
// loadOnlyInlinedPlugins keeps a later load from adding them twice.
func inlinePlugins(list *libcni.NetworkConfigList) ([]byte, error) {
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(list.Bytes, &raw); err != nil {
		return nil, fmt.Errorf("network %q: parse list: %w", list.Name, err)
	}
	plugins := make([]json.RawMessage, 0, len(list.Plugins))
	for _, p := range list.Plugins {
		plugins = append(plugins, p.Bytes)
	}
	var err error
	if raw["plugins"], err = json.Marshal(plugins); err != nil {
		return nil, fmt.Errorf("network %q: %w", list.Name, err)
	}
	raw["loadOnlyInlinedPlugins"] = json.RawMessage("true")
	// An explicit cniVersion: the list's may have come from "cniVersions".
	if raw["cniVersion"], err = json.Marshal(list.CNIVersion); err != nil {
		return nil, fmt.Errorf("network %q: %w", list.Name, err)
	}
	delete(raw, "cniVersions")
	out, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("network %q: %w", list.Name, err)
	}
	return out, nil
}
