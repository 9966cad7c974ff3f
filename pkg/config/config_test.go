// SPDX-License-Identifier: Apache-2.0

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMissingDefaultFileGivesDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join(t.TempDir(), "none.toml"), false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != DefaultListen || cfg.Root != DefaultRoot || cfg.CgroupDriver != "cgroupfs" {
		t.Fatalf("defaults not applied: %+v", cfg)
	}
}

func TestMissingExplicitFileFails(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), true); err == nil {
		t.Fatal("an explicitly named config that does not exist must fail")
	}
}

func TestRegistrySection(t *testing.T) {
	p := write(t, `
[image]
progress_timeout = "5s"
[registry.mirrors]
"registry.k8s.io" = ["http://127.0.0.1:5000"]
[registry.hosts."127.0.0.1:5000"]
insecure = true
`)
	cfg, err := Load(p, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registry.Mirrors["registry.k8s.io"]; len(got) != 1 || got[0] != "http://127.0.0.1:5000" {
		t.Fatalf("mirrors: %v", got)
	}
	if !cfg.Registry.Hosts["127.0.0.1:5000"].Insecure {
		t.Fatal("insecure not read")
	}
	if time.Duration(cfg.Image.ProgressTimeout) != 5*time.Second {
		t.Fatalf("progress_timeout: %v", cfg.Image.ProgressTimeout)
	}
	if cfg.Image.MaxConcurrentDownloads != 3 {
		t.Fatal("unset keys keep their defaults")
	}
}

func TestBadInputNamesTheProblem(t *testing.T) {
	for body, want := range map[string]string{
		`rooot = "/x"`:                              "rooot",
		`cgroup_driver = "foo"`:                     "cgroup_driver",
		"[registry.mirrors]\n\"a\" = [\"ftp://x\"]": "ftp://x",
		"[image]\nprogress_timeout = \"soon\"":      "soon",
	} {
		_, err := Load(write(t, body), true)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v should name %q", body, err, want)
		}
	}
}

func TestDualStackDefaultSubnet(t *testing.T) {
	if _, err := Load(write(t, "[cni]\ndefault_subnet = \"10.89.0.0/16,fd00:89::/64\"\n"), true); err != nil {
		t.Fatal(err)
	}
}
