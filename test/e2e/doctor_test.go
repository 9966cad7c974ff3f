// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// doctorRows runs `podshim doctor` with args and returns its rows by check
// name (status, then the rest of the line), its output and exit code.
func doctorRows(t *testing.T, args ...string) (map[string]string, string, int) {
	t.Helper()
	cmd := exec.Command(podshimBinary(t), append([]string{"doctor"}, args...)...)
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	// Columns are two or more spaces apart; check names have single spaces.
	split := regexp.MustCompile(`\s{2,}`)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		cols := split.Split(sc.Text(), 2)
		if len(cols) == 2 {
			rows[cols[0]] = cols[1]
		}
	}
	return rows, string(out), code
}

func rowStatus(row string) string { return strings.SplitN(row, "  ", 2)[0] }

// The report tells the truth about this node, checked here against other
// sources than the ones doctor reads where there are any.
func TestDoctorReportsThisNode(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	rows, out, code := doctorRows(t, "--root", root, "--config", writeConfig(t, "[cni]\nconf_dir = "+quote(t.TempDir())+"\n"))
	t.Logf("podshim doctor:\n%s", out)
	if code != 0 || !strings.HasSuffix(out, "pods can run on this node\n") {
		t.Fatalf("exit %d: this node runs pods (the other e2e tests do)", code)
	}
	release, err := exec.Command("uname", "-r").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows["kernel"], strings.TrimSpace(string(release))) {
		t.Errorf("kernel row %q does not show uname -r %s", rows["kernel"], release)
	}
	for _, name := range []string{"kernel", "cgroup version", "cgroup controllers", "overlayfs", "runc", "pause", "CNI network", "cgroup driver"} {
		if rowStatus(rows[name]) != "ok" {
			t.Errorf("%s: %q, want ok", name, rows[name])
		}
	}
	// hugetlb: a v1 hierarchy with it in /proc/self/mounts, or a unified
	// host whose root lists it.
	mounts, _ := os.ReadFile("/proc/self/mounts")
	hugetlb := regexp.MustCompile(`(?m)^\S+ \S+ cgroup \S*\bhugetlb\b`).Match(mounts)
	if ctrls, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		hugetlb = strings.Contains(string(ctrls), "hugetlb")
	}
	wantStatus(t, rows, "cgroup hugetlb", hugetlb)
	// AppArmor and SELinux: their kernel interfaces exist exactly when enabled.
	wantStatus(t, rows, "AppArmor", exists("/sys/kernel/security/apparmor") || moduleEnabled("apparmor"))
	wantStatus(t, rows, "SELinux", exists("/sys/fs/selinux/enforce"))
	_, criuErr := exec.LookPath("criu")
	wantStatus(t, rows, "CRIU", criuErr == nil)
	_, iptErr := exec.LookPath("iptables")
	wantStatus(t, rows, "iptables", iptErr == nil)
	if entries, _ := os.ReadDir(filepath.Dir(root)); len(entries) != 0 {
		t.Errorf("doctor left %d entries in %s (its test mounts)", len(entries), filepath.Dir(root))
	}
}

// What pods cannot do without fails the verdict and the exit status, and is named.
func TestDoctorFailsWhenPodsCannotRun(t *testing.T) {
	rows, out, code := doctorRows(t, "--root", t.TempDir(), "--config", writeConfig(t, `runc_path = "/nonexistent/runc"`))
	if code != 1 || rowStatus(rows["runc"]) != "missing (required)" || !strings.HasSuffix(out, "pods cannot run on this node: runc\n") {
		t.Fatalf("exit %d with runc missing:\n%s", code, out)
	}
	// The systemd cgroup driver needs systemd as PID 1 (sd_booted).
	rows, out, code = doctorRows(t, "--root", t.TempDir(), "--config", writeConfig(t, `cgroup_driver = "systemd"`))
	if exists("/run/systemd/system") {
		if rowStatus(rows["cgroup driver"]) != "ok" {
			t.Fatalf("systemd is PID 1 here, yet:\n%s", out)
		}
		return
	}
	if code != 1 || rowStatus(rows["cgroup driver"]) != "missing (required)" || !strings.HasSuffix(out, "pods cannot run on this node: cgroup driver\n") {
		t.Fatalf("exit %d with cgroup_driver systemd and no systemd:\n%s", code, out)
	}
}

func wantStatus(t *testing.T, rows map[string]string, name string, present bool) {
	t.Helper()
	want := "missing"
	if present {
		want = "ok"
	}
	if got := rowStatus(rows[name]); got != want {
		t.Errorf("%s: %q, want %s", name, rows[name], want)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func moduleEnabled(name string) bool {
	data, err := os.ReadFile("/sys/module/" + name + "/parameters/enabled")
	return err == nil && strings.TrimSpace(string(data)) == "Y"
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
