// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/atomicfile"
)

const (
	// DefaultConfFile is the name of the conflist New writes into an empty
	// ConfDir; "10-" leaves room for an operator's config to sort first.
	DefaultConfFile = "10-podshim.conflist"
	// DefaultNetworkName is the network name in that conflist.
	DefaultNetworkName = "podshim"
)

// ownerRecord remembers which conflist podshim wrote, by path and content
// hash. Only a file that still hashes the same is podshim's to rewrite: once
// an operator edits it, it is theirs.
type ownerRecord struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// ensureDefaultConfig writes the default conflist when ConfDir holds no
// network configuration at all.
func (m *Manager) ensureDefaultConfig() error {
	m.confM.Lock()
	defer m.confM.Unlock()

	files, err := confFiles(m.confDir)
	if err != nil {
		return err
	}
	if len(files) > 0 {
		return nil
	}
	if err := os.MkdirAll(m.confDir, 0o755); err != nil {
		return fmt.Errorf("create CNI conf dir: %w", err)
	}
	path := filepath.Join(m.confDir, DefaultConfFile)
	if err := m.writeDefault(path, m.defaultSubnet); err != nil {
		return err
	}
	klog.InfoS("Wrote default CNI network config", "path", path, "subnet", strings.Join(m.defaultSubnet, ","), "bridge", m.defaultBridge)
	return nil
}

// SetPodCIDR points the default network at cidr (the pod CIDR the kubelet
// sends in UpdateRuntimeConfig; one IPv4 and one IPv6 CIDR may be given,
// comma-separated). It changes nothing in a config podshim did not write:
// the operator's configuration is theirs to manage.
//
// Pods already running keep their addresses; their intents hold the config
// used at ADD, so their teardown frees them from the old range.
func (m *Manager) SetPodCIDR(cidr string) error {
	cidrs, err := parseCIDRs(cidr)
	if err != nil {
		return fmt.Errorf("pod CIDR: %w", err)
	}
	m.confM.Lock()
	defer m.confM.Unlock()

	path, ok, err := m.ownedDefault()
	if err != nil {
		return err
	}
	if !ok {
		klog.V(2).InfoS("Pod CIDR not applied: the CNI config is not podshim's default", "cidr", cidr)
		return nil
	}
	if err := m.writeDefault(path, cidrs); err != nil {
		return err
	}
	klog.InfoS("Default CNI network now uses pod CIDR", "path", path, "cidr", strings.Join(cidrs, ","))
	return nil
}

// writeDefault writes the default conflist for subnets at path. The owner
// record goes first: a crash in between leaves a record for a file that is
// absent or still the old one, never a podshim file without a record.
func (m *Manager) writeDefault(path string, subnets []string) error {
	data, err := defaultConfList(m.defaultBridge, subnets, m.ipamDir)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	sum := sha256.Sum256(data)
	rec, err := json.Marshal(ownerRecord{Path: path, SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		return fmt.Errorf("encode default network record: %w", err)
	}
	if err := atomicfile.WriteFile(m.ownerRecord, rec, 0o600); err != nil {
		return fmt.Errorf("record default network: %w", err)
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("write default network config: %w", err)
	}
	return nil
}

// ownedDefault returns the path of the default conflist if podshim wrote it
// and nobody has changed it since.
func (m *Manager) ownedDefault() (string, bool, error) {
	raw, err := os.ReadFile(m.ownerRecord)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read default network record: %w", err)
	}
	var rec ownerRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return "", false, fmt.Errorf("parse default network record %s: %w", m.ownerRecord, err)
	}
	if filepath.Dir(rec.Path) != m.confDir {
		return "", false, nil // ConfDir moved since
	}
	data, err := os.ReadFile(rec.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read default network config: %w", err)
	}
	sum := sha256.Sum256(data)
	return rec.Path, hex.EncodeToString(sum[:]) == rec.SHA256, nil
}

// defaultConfList renders podshim's default network: a bridge that is the
// pods' gateway and masquerades their traffic leaving the node, host-local
// IPAM with leases kept under StateDir, and portmap for hostPorts. Loopback
// is not in the list: Setup brings lo up itself, as CNI runtimes do.
func defaultConfList(bridge string, subnets []string, ipamDir string) ([]byte, error) {
	// Structs rather than maps: the file is for people too, and keeps
	// "type" first in every plugin.
	type subnet struct {
		Subnet string `json:"subnet"`
	}
	type route struct {
		Dst string `json:"dst"`
	}
	type ipam struct {
		Type    string     `json:"type"`
		Ranges  [][]subnet `json:"ranges"`
		Routes  []route    `json:"routes"`
		DataDir string     `json:"dataDir"`
	}
	type bridgePlugin struct {
		Type        string `json:"type"`
		Bridge      string `json:"bridge"`
		IsGateway   bool   `json:"isGateway"`
		IPMasq      bool   `json:"ipMasq"`
		HairpinMode bool   `json:"hairpinMode"`
		IPAM        ipam   `json:"ipam"`
	}
	type portmapPlugin struct {
		Type         string          `json:"type"`
		Capabilities map[string]bool `json:"capabilities"`
		SNAT         bool            `json:"snat"`
	}
	im := ipam{Type: "host-local", DataDir: ipamDir}
	for _, s := range subnets {
		im.Ranges = append(im.Ranges, []subnet{{Subnet: s}})
		if strings.Contains(s, ":") {
			im.Routes = append(im.Routes, route{Dst: "::/0"})
		} else {
			im.Routes = append(im.Routes, route{Dst: "0.0.0.0/0"})
		}
	}
	conf := struct {
		CNIVersion string `json:"cniVersion"`
		Name       string `json:"name"`
		Plugins    []any  `json:"plugins"`
	}{
		CNIVersion: "1.0.0",
		Name:       DefaultNetworkName,
		Plugins: []any{
			bridgePlugin{Type: "bridge", Bridge: bridge, IsGateway: true, IPMasq: true, HairpinMode: true, IPAM: im},
			portmapPlugin{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}, SNAT: true},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode default network config: %w", err)
	}
	return append(data, '\n'), nil
}

// parseCIDRs reads "cidr[,cidr]" with at most one CIDR per IP family, and
// returns them in canonical form (network address, not host address).
func parseCIDRs(s string) ([]string, error) {
	var out []string
	var v4, v6 bool
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		_, ipn, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("invalid CIDR %q: %w", part, err)
		}
		is4 := ipn.IP.To4() != nil
		if (is4 && v4) || (!is4 && v6) {
			return nil, fmt.Errorf("%q: more than one CIDR of one IP family", s)
		}
		v4, v6 = v4 || is4, v6 || !is4
		out = append(out, ipn.String())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no CIDR in %q", s)
	}
	return out, nil
}
