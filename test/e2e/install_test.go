// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/config"
)

// makeInstall runs `make install` from the repository into destdir.
func makeInstall(t *testing.T, destdir string) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	out, err := exec.Command("make", "-C", "../..", "install", "DESTDIR="+destdir).CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	return string(out)
}

// make install lays out the tree, writes the two files under /etc only when
// they are missing, and its unit passes systemd-analyze verify.
func TestMakeInstallLaysOutTheTree(t *testing.T) {
	podshimBinary(t) // root, as the e2e tests are
	dest := t.TempDir()
	makeInstall(t, dest)
	lib := filepath.Join(dest, "usr/local/lib/podshim")
	for _, f := range []string{"podshim", "podshim-monitor", "pause", "runc", "crun-hybrid", "cni/bridge", "cni/host-local", "cni/loopback", "cni/portmap"} {
		st, err := os.Stat(filepath.Join(lib, f))
		if err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: %v %v", f, err, st)
		}
	}
	if target, err := os.Readlink(filepath.Join(dest, "usr/local/bin/podshim")); err != nil || target != "../lib/podshim/podshim" {
		t.Errorf("bin/podshim links to %q (%v)", target, err)
	}
	unit, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/system/podshim.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"Type=notify", "KillMode=process", "Delegate=yes", "Restart=on-failure",
		"ExecStart=/usr/local/bin/podshim --config /etc/podshim/config.toml", "LimitNOFILE=1048576"} {
		if !bytes.Contains(unit, []byte("\n"+line+"\n")) {
			t.Errorf("unit lacks %q", line)
		}
	}
	cfgPath := filepath.Join(dest, "etc/podshim/config.toml")
	cfg, err := config.Load(cfgPath, true)
	if err != nil {
		t.Fatalf("installed config: %v", err)
	}
	want := config.Default()
	cfg.CNI.BinDirs, cfg.Image.PinnedImages = nil, nil // empty arrays in the file
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("installed config loads as %+v, want the defaults %+v", cfg, want)
	}
	crictl, err := os.ReadFile(filepath.Join(dest, "etc/crictl.yaml"))
	if err != nil || !strings.Contains(string(crictl), "runtime-endpoint: unix:///run/podshim/podshim.sock\n") {
		t.Errorf("crictl.yaml: %v\n%s", err, crictl)
	}

	// An operator's files survive a reinstall (an upgrade).
	mine := []byte("# mine\ncgroup_driver = \"systemd\"\n")
	for _, p := range []string{cfgPath, filepath.Join(dest, "etc/crictl.yaml")} {
		if err := os.WriteFile(p, mine, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := makeInstall(t, dest)
	for _, p := range []string{cfgPath, filepath.Join(dest, "etc/crictl.yaml")} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, mine) {
			t.Errorf("reinstall replaced %s:\n%s", p, out)
		}
	}

	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed: unit not verified")
		return
	}
	// --root resolves ExecStart inside the staged tree.
	out2, err := exec.Command("systemd-analyze", "verify", "--man=no", "--recursive-errors=no", "--root="+dest,
		"/usr/local/lib/systemd/system/podshim.service").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out2)) != 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out2)
	}
}

// The unit's ExecStart, run from the installed tree with a fake systemd
// listening on NOTIFY_SOCKET, is a working runtime: it says READY=1 once
// its socket answers, finds the runc and plugins installed beside it, runs
// a pod, and says STOPPING=1 on SIGTERM.
func TestInstalledUnitCommandRunsPodsAndNotifiesSystemd(t *testing.T) {
	podshimBinary(t)
	dest := t.TempDir()
	makeInstall(t, dest)
	unit, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/system/podshim.service"))
	if err != nil {
		t.Fatal(err)
	}
	var argv []string
	sc := bufio.NewScanner(bytes.NewReader(unit))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			argv = strings.Fields(v)
		}
	}
	if len(argv) != 3 || argv[1] != "--config" {
		t.Fatalf("ExecStart %q", argv)
	}
	// The staged tree stands for /: absolute paths of the unit move into it.
	argv[0] = filepath.Join(dest, argv[0])
	argv[2] = filepath.Join(dest, argv[2])

	// This test's own network instead of the default podshim0 in
	// /etc/cni/net.d, which is the machine's: appended as the config's only
	// [cni] keys after removing the defaults'.
	pn := newPodNet(t)
	text, err := os.ReadFile(argv[2])
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "conf_dir =") && !strings.HasPrefix(line, "default_subnet =") && !strings.HasPrefix(line, "default_bridge =") {
			kept = append(kept, line)
		}
	}
	cniKeys := strings.TrimPrefix(pn.config(), "[cni]\n")
	cfgText := strings.Replace(strings.Join(kept, "\n"), "\n[cni]\n", "\n[cni]\n"+cniKeys, 1)
	if err := os.WriteFile(argv[2], []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	notifyPath := filepath.Join(dir, "notify.sock")
	systemd, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifyPath, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer systemd.Close()

	d := &daemon{t: t, bin: argv[0], dir: dir, net: pn, config: argv[2], sock: filepath.Join(dir, "state", "podshim.sock")}
	// Flags win over the file: root, state and socket of this test's own.
	d.cmd = exec.Command(argv[0], append(argv[1:], "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--listen", d.sock)...)
	d.cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notifyPath)
	d.log = &bytes.Buffer{}
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.done = make(chan error, 1)
	go func(c *exec.Cmd, done chan error) { done <- c.Wait() }(d.cmd, d.done)
	t.Cleanup(d.stop)

	if got := readNotify(t, systemd); !strings.HasPrefix(got, "READY=1\n") {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	d.connect() // answers at once: READY=1 came after its own Version call
	t.Cleanup(d.removeAllPods)

	pod := runPod(t, d, podConfig("installed"))
	st, _ := podStatus(t, d, pod)
	if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || st.GetNetwork().GetIp() == "" {
		t.Fatalf("pod %v ip %q", st.State, st.GetNetwork().GetIp())
	}
	// The daemon's lookups find the runc, pause and plugins installed
	// beside it; doctor, making the same lookups, names them.
	doc, err := exec.Command(argv[0], "doctor", "--config", argv[2], "--root", filepath.Join(dir, "root")).CombinedOutput()
	if err != nil {
		t.Fatalf("installed podshim doctor: %v\n%s", err, doc)
	}
	for _, p := range []string{"runc", "pause", "podshim-monitor", "cni"} {
		if !bytes.Contains(doc, []byte(filepath.Join(dest, "usr/local/lib/podshim", p))) {
			t.Errorf("doctor does not name the installed %s:\n%s", p, doc)
		}
	}
	d.removeAllPods()

	d.cmd.Process.Signal(os.Interrupt)
	if got := readNotify(t, systemd); got != "STOPPING=1" {
		t.Errorf("notification on shutdown %q, want STOPPING=1", got)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("podshim exited with %v\n%s", err, d.log)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("podshim did not stop on SIGINT\n%s", d.log)
	}
	d.cmd = nil
}

func readNotify(t *testing.T, c *net.UnixConn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(2 * time.Minute))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no notification from podshim: %v", err)
	}
	return string(buf[:n])
}
