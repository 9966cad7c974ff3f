// SPDX-License-Identifier: Apache-2.0

package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRuntimeHandlersDefaults(t *testing.T) {
	p := write(t, `
state = "/run/x"
runc_path = "/opt/runc"
[runtimes.test-handler]
binary = "/opt/runc"
`)
	cfg, err := Load(p, true)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.RuntimeHandlers()
	if got := h["runc"]; got.Binary != "/opt/runc" || got.Root != "/run/x/runc" || got.CgroupDriver != "cgroupfs" {
		t.Errorf("runc handler: %+v", got)
	}
	if got := h["test-handler"]; got.Binary != "/opt/runc" || got.Root != filepath.Join("/run/x/runtimes/test-handler") {
		t.Errorf("test-handler: %+v", got)
	}
	if cfg.DefaultRuntime != "runc" {
		t.Errorf("default_runtime %q", cfg.DefaultRuntime)
	}
}

func TestRuntimeHandlersRefused(t *testing.T) {
	for body, want := range map[string]string{
		"[runtimes.Bad_Name]\nbinary = \"/x\"\n":                "DNS label",
		"default_runtime = \"kata\"\n":                          "default_runtime",
		"[runtimes.other]\nroot = \"/run/podshim/runc\"\n":      "also the root",
		"[runtimes.other]\ncgroup_driver = \"systemd\"\n":       "cgroup_driver",
		"[runtimes.other]\nbinary = \"/x\"\nsandboxed = true\n": "unknown keys",
	} {
		_, err := Load(write(t, body), true)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error mentioning %q", body, err, want)
		}
	}
}
