// SPDX-License-Identifier: Apache-2.0

package network

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// newConfigManager makes a Manager whose plugins are look-alike files: the
// config tests only look plugins up, never run them.
func newConfigManager(t *testing.T, confDir string) *Manager {
	t.Helper()
	m, err := New(Options{
		ConfDir:       confDir,
		BinDirs:       []string{fakeBinDir(t, "bridge", "host-local", "portmap")},
		StateDir:      t.TempDir(),
		DefaultSubnet: "10.199.250.0/24",
		DefaultBridge: "pstestconf",
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// defaultConf is the part of the default conflist the tests look at.
type defaultConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []struct {
		Type         string          `json:"type"`
		Bridge       string          `json:"bridge"`
		IsGateway    bool            `json:"isGateway"`
		IPMasq       bool            `json:"ipMasq"`
		SNAT         bool            `json:"snat"`
		Capabilities map[string]bool `json:"capabilities"`
		IPAM         struct {
			Type    string                `json:"type"`
			Ranges  [][]map[string]string `json:"ranges"`
			Routes  []map[string]string   `json:"routes"`
			DataDir string                `json:"dataDir"`
		} `json:"ipam"`
	} `json:"plugins"`
}

func readDefaultConf(t *testing.T, confDir string) defaultConf {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(confDir, DefaultConfFile))
	if err != nil {
		t.Fatal(err)
	}
	var c defaultConf
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("default conflist: %v\n%s", err, data)
	}
	return c
}

func TestDefaultConfigWrittenWhenConfDirEmpty(t *testing.T) {
	confDir := filepath.Join(t.TempDir(), "net.d") // not even there yet
	m := newConfigManager(t, confDir)

	c := readDefaultConf(t, confDir)
	if c.Name != DefaultNetworkName || len(c.Plugins) != 2 {
		t.Fatalf("default conflist: %+v", c)
	}
	br, pm := c.Plugins[0], c.Plugins[1]
	if br.Type != "bridge" || br.Bridge != "pstestconf" || !br.IsGateway || !br.IPMasq {
		t.Errorf("bridge plugin: %+v", br)
	}
	if br.IPAM.Type != "host-local" || br.IPAM.DataDir != m.ipamDir {
		t.Errorf("ipam: %+v (want dataDir %s)", br.IPAM, m.ipamDir)
	}
	wantRanges := [][]map[string]string{{{"subnet": "10.199.250.0/24"}}}
	if !reflect.DeepEqual(br.IPAM.Ranges, wantRanges) {
		t.Errorf("ranges = %v, want %v", br.IPAM.Ranges, wantRanges)
	}
	if !reflect.DeepEqual(br.IPAM.Routes, []map[string]string{{"dst": "0.0.0.0/0"}}) {
		t.Errorf("routes = %v", br.IPAM.Routes)
	}
	if pm.Type != "portmap" || !pm.SNAT || !pm.Capabilities["portMappings"] {
		t.Errorf("portmap plugin: %+v", pm)
	}
	if err := m.Ready(); err != nil {
		t.Errorf("Ready with the default network: %v", err)
	}

	// Another start leaves the file alone.
	before, _ := os.ReadFile(filepath.Join(confDir, DefaultConfFile))
	newConfigManager(t, confDir)
	after, _ := os.ReadFile(filepath.Join(confDir, DefaultConfFile))
	if string(before) != string(after) {
		t.Errorf("second New rewrote the default conflist")
	}
}

func TestReadyExplainsMissingNetwork(t *testing.T) {
	confDir := t.TempDir()
	writeFile(t, filepath.Join(confDir, "00-bad.conflist"), "{not json")
	m := newConfigManager(t, confDir)

	if _, err := os.Stat(filepath.Join(confDir, DefaultConfFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("default conflist written into a non-empty ConfDir: %v", err)
	}
	err := m.Ready()
	if !errors.Is(err, ErrNoNetwork) || !strings.Contains(err.Error(), "00-bad.conflist") {
		t.Fatalf("Ready = %v, want ErrNoNetwork naming 00-bad.conflist", err)
	}

	// A well-formed config whose plugin is not installed is not usable.
	writeFile(t, filepath.Join(confDir, "05-missing.conflist"),
		`{"cniVersion":"1.0.0","name":"missing","plugins":[{"type":"nosuchplugin"}]}`)
	err = m.Ready()
	if !errors.Is(err, ErrNoNetwork) || !strings.Contains(err.Error(), `"nosuchplugin" not found`) {
		t.Fatalf("Ready = %v, want a missing-plugin reason", err)
	}

	// An old single-plugin .conf sorting later is used.
	writeFile(t, filepath.Join(confDir, "50-single.conf"),
		`{"cniVersion":"0.4.0","name":"single","type":"bridge","ipam":{"type":"host-local","subnet":"10.199.251.0/24"}}`)
	if err := m.Ready(); err != nil {
		t.Fatalf("Ready with a usable .conf: %v", err)
	}
	n, err := m.currentNetwork()
	if err != nil || n.list.Name != "single" {
		t.Fatalf("current network = %+v, %v; want single", n, err)
	}

	// The lexically first usable config wins.
	writeFile(t, filepath.Join(confDir, "20-first.conflist"),
		`{"cniVersion":"1.0.0","name":"first","plugins":[{"type":"bridge"},{"type":"portmap","capabilities":{"portMappings":true}}]}`)
	if n, err = m.currentNetwork(); err != nil || n.list.Name != "first" {
		t.Fatalf("current network = %+v, %v; want first", n, err)
	}

	// Every config gone: a reason again.
	for _, f := range []string{"00-bad.conflist", "05-missing.conflist", "50-single.conf", "20-first.conflist"} {
		os.Remove(filepath.Join(confDir, f))
	}
	if err := m.Ready(); !errors.Is(err, ErrNoNetwork) || !strings.Contains(err.Error(), "no network config found") {
		t.Fatalf("Ready on an empty ConfDir = %v", err)
	}
}

func TestInlinedConfigKeepsSideDirectoryPlugins(t *testing.T) {
	// CNI 1.1 lets a conflist keep plugins in <ConfDir>/<name>/*.conf; the
	// intent must hold them too, since teardown cannot rely on ConfDir.
	confDir := t.TempDir()
	writeFile(t, filepath.Join(confDir, "10-side.conflist"), `{"cniVersion":"1.0.0","name":"side"}`)
	writeFile(t, filepath.Join(confDir, "side", "10-bridge.conf"), `{"type":"bridge","bridge":"pstestside"}`)
	m := newConfigManager(t, confDir)
	n, err := m.currentNetwork()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Plugins []struct {
			Type string `json:"type"`
		} `json:"plugins"`
		LoadOnlyInlinedPlugins bool `json:"loadOnlyInlinedPlugins"`
	}
	if err := json.Unmarshal(n.inlined, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Plugins) != 1 || got.Plugins[0].Type != "bridge" || !got.LoadOnlyInlinedPlugins {
		t.Fatalf("inlined config = %s", n.inlined)
	}
}

func TestSetPodCIDR(t *testing.T) {
	confDir := t.TempDir()
	m := newConfigManager(t, confDir)

	if err := m.SetPodCIDR("10.199.252.7/24"); err != nil {
		t.Fatal(err)
	}
	c := readDefaultConf(t, confDir)
	if got := c.Plugins[0].IPAM.Ranges; !reflect.DeepEqual(got, [][]map[string]string{{{"subnet": "10.199.252.0/24"}}}) {
		t.Fatalf("ranges after SetPodCIDR = %v", got)
	}

	// Dual stack: one range set and one default route per family.
	if err := m.SetPodCIDR("10.199.252.0/24,fd00:199::/64"); err != nil {
		t.Fatal(err)
	}
	c = readDefaultConf(t, confDir)
	if len(c.Plugins[0].IPAM.Ranges) != 2 || len(c.Plugins[0].IPAM.Routes) != 2 || c.Plugins[0].IPAM.Routes[1]["dst"] != "::/0" {
		t.Fatalf("dual-stack ipam = %+v", c.Plugins[0].IPAM)
	}

	for _, bad := range []string{"", "nonsense", "10.0.0.0/8,10.1.0.0/16"} {
		if err := m.SetPodCIDR(bad); err == nil {
			t.Errorf("SetPodCIDR(%q) accepted", bad)
		}
	}

	// Once the operator edits the file it is theirs: no more rewrites.
	path := filepath.Join(confDir, DefaultConfFile)
	edited := strings.Replace(readFile(t, path), `"hairpinMode": true`, `"hairpinMode": false`, 1)
	writeFile(t, path, edited)
	if err := m.SetPodCIDR("10.199.253.0/24"); err != nil {
		t.Fatal(err)
	}
	if readFile(t, path) != edited {
		t.Errorf("SetPodCIDR rewrote an operator-edited config")
	}
}

func TestSetPodCIDRLeavesOperatorConfigAlone(t *testing.T) {
	confDir := t.TempDir()
	const op = `{"cniVersion":"1.0.0","name":"op","plugins":[{"type":"bridge","ipam":{"type":"host-local","subnet":"10.199.254.0/24"}}]}`
	writeFile(t, filepath.Join(confDir, "10-op.conflist"), op)
	m := newConfigManager(t, confDir)
	if err := m.SetPodCIDR("10.199.253.0/24"); err != nil {
		t.Fatal(err)
	}
	if readFile(t, filepath.Join(confDir, "10-op.conflist")) != op {
		t.Errorf("operator config changed")
	}
	if _, err := os.Stat(filepath.Join(confDir, DefaultConfFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("default conflist appeared: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
