// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestVersionStatusAndRuntimeConfig(t *testing.T) {
	d := startDaemon(t, "")
	ctx := ctxT(t, 10*time.Second)

	v, err := d.rt.Version(ctx, &runtimeapi.VersionRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if v.RuntimeName != "podshim" || v.RuntimeApiVersion != "v1" || v.RuntimeVersion == "" {
		t.Fatalf("Version: %+v", v)
	}

	st, err := d.rt.Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	conds := map[string]*runtimeapi.RuntimeCondition{}
	for _, c := range st.Status.Conditions {
		conds[c.Type] = c
	}
	if c := conds[runtimeapi.RuntimeReady]; c == nil || !c.Status {
		t.Fatalf("RuntimeReady should be true: %+v", c)
	}
	// podshim wrote its default network into the empty CNI config dir.
	if c := conds[runtimeapi.NetworkReady]; c == nil || !c.Status {
		t.Fatalf("NetworkReady should be true: %+v", c)
	}
	if !strings.Contains(st.Info["config"], d.dir) {
		t.Fatalf("verbose Status should describe the config in use: %v", st.Info)
	}

	rc, err := d.rt.RuntimeConfig(ctx, &runtimeapi.RuntimeConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetLinux().GetCgroupDriver() != runtimeapi.CgroupDriver_CGROUPFS {
		t.Fatalf("default cgroup driver should be cgroupfs: %v", rc)
	}
}

func TestSystemdCgroupDriverIsReported(t *testing.T) {
	d := startDaemon(t, `cgroup_driver = "systemd"`)
	rc, err := d.rt.RuntimeConfig(ctxT(t, 10*time.Second), &runtimeapi.RuntimeConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rc.GetLinux().GetCgroupDriver() != runtimeapi.CgroupDriver_SYSTEMD {
		t.Fatalf("cgroup driver: %v", rc)
	}
}

func TestSocketIsGroupOnly(t *testing.T) {
	d := startDaemon(t, "")
	fi, err := os.Stat(d.sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, want socket 0660", fi.Mode())
	}
}

func TestSecondDaemonOnSameRootIsRefused(t *testing.T) {
	d := startDaemon(t, "")
	other := filepath.Join(t.TempDir(), "other.sock")
	args := d.args()
	for i := range args {
		if args[i] == d.sock {
			args[i] = other
		}
	}
	out, err := exec.Command(d.bin, args...).CombinedOutput()
	if err == nil {
		t.Fatalf("a second daemon on the same root started:\n%s", out)
	}
	if !strings.Contains(string(out), "already running") {
		t.Fatalf("the refusal should say why:\n%s", out)
	}
	// The first daemon is untouched.
	if _, err := d.rt.Version(ctxT(t, 5*time.Second), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatalf("first daemon stopped answering: %v", err)
	}
}

func TestStaleSocketIsReplacedAfterACrash(t *testing.T) {
	d := startDaemon(t, "")
	d.kill()
	if _, err := os.Stat(d.sock); err != nil {
		t.Fatalf("a killed daemon leaves its socket file behind; test premise broken: %v", err)
	}
	d.start()
	if _, err := d.rt.Version(ctxT(t, 5*time.Second), &runtimeapi.VersionRequest{}); err != nil {
		t.Fatal(err)
	}
}

func TestBadConfigFailsWithTheKeyNamed(t *testing.T) {
	bin := podshimBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte("cgroup_driver = \"bogus\"\n"), 0o600)
	out, err := exec.Command(bin, "--config", cfg, "--root", dir+"/root", "--state", dir+"/state", "--listen", dir+"/s.sock").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "cgroup_driver") {
		t.Fatalf("want a failure naming cgroup_driver, got %v:\n%s", err, out)
	}
}
