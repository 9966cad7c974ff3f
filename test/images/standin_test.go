// SPDX-License-Identifier: Apache-2.0

package images

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The stand-ins are tested on the host, taken out of the images they ship
// in, with the test-only listen/pid-file overrides so nothing touches the
// host's port 80 or /var/run.

// installFromImage copies one file of an image to dir/name.
func installFromImage(t *testing.T, repo, tag, path, name string) string {
	t.Helper()
	f, ok := flatten(t, mustImage(t, mustSet(t), repo, tag))[path]
	if !ok {
		t.Fatalf("%s:%s lacks %s", repo, tag, path)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, f.data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getPage polls url until it answers, for at most ten seconds.
func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stopAndWait sends sig and expects a clean exit within ten seconds.
func stopAndWait(t *testing.T, cmd *exec.Cmd, sig syscall.Signal) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after %v: %v", sig, err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Errorf("did not exit on %v", sig)
	}
}

func TestNginxStandin(t *testing.T) {
	bin := installFromImage(t, "e2e-test-images/nginx", "1.14-2", "usr/sbin/nginx", "nginx")
	addr := freeAddr(t)
	pidFile := filepath.Join(t.TempDir(), "nginx.pid")
	cmd := exec.Command(bin, "-g", "daemon off;")
	cmd.Args[0] = "nginx" // as a runtime resolving Cmd ["nginx", ...] would pass it
	cmd.Env = append(os.Environ(), "PODSHIM_STANDIN_LISTEN="+addr, "PODSHIM_STANDIN_PIDFILE="+pidFile)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid

	code, body := getPage(t, "http://"+addr+"/")
	if code != 200 || !strings.Contains(body, "Welcome to nginx!") {
		t.Errorf("GET /: %d %q", code, body)
	}
	if code, _ := getPage(t, "http://"+addr+"/missing"); code != 404 {
		t.Errorf("GET /missing: %d", code)
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if got := string(bytes.TrimRight(cmdline, "\x00")); got != "nginx: master process nginx -g daemon off;" {
		t.Errorf("cmdline %q", got)
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if got := strings.TrimSpace(string(comm)); got != "nginx" {
		t.Errorf("comm %q", got)
	}
	pidData, err := os.ReadFile(pidFile)
	if err != nil || strings.TrimSpace(string(pidData)) != strconv.Itoa(pid) {
		t.Errorf("pid file %q (%v), want %d", pidData, err, pid)
	}
	stopAndWait(t, cmd, syscall.SIGQUIT)
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

func TestHttpdStandin(t *testing.T) {
	bin := installFromImage(t, "e2e-test-images/httpd", "2.4.39-4", "usr/local/apache2/bin/httpd", "httpd")
	addr := freeAddr(t)
	cmd := exec.Command(bin, "-DFOREGROUND")
	cmd.Env = append(os.Environ(), "PODSHIM_STANDIN_LISTEN="+addr)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code, _ := getPage(t, "http://"+addr+"/"); code != 200 {
		t.Errorf("GET /: %d", code)
	}
	stopAndWait(t, cmd, syscall.SIGWINCH)
	if !strings.Contains(stdout.String(), "httpd") {
		t.Errorf("stdout %q lacks \"httpd\"", stdout.String())
	}
}

func TestNonewprivsStandin(t *testing.T) {
	bin := installFromImage(t, "e2e-test-images/nonewprivs", "1.3", "usr/local/bin/nnp", "nnp")
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Effective uid: %d\n", os.Geteuid()); string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

// TestNonewprivsSetuid runs the setuid-root binary as uid 1000, as the
// spec does with no_new_privs off: the setuid bit must lift it to euid 0.
func TestNonewprivsSetuid(t *testing.T) {
	requireRoot(t)
	bin := installFromImage(t, "e2e-test-images/nonewprivs", "1.3", "usr/local/bin/nnp", "nnp")
	var st syscall.Statfs_t
	if err := syscall.Statfs(bin, &st); err != nil {
		t.Fatal(err)
	}
	const stNosuid = 0x2 // ST_NOSUID
	if st.Flags&stNosuid != 0 {
		t.Skip("temporary directory is mounted nosuid")
	}
	// uid 1000 must be able to reach the binary: open up the directories
	// the test created, never the system temporary directory itself.
	for dir := filepath.Dir(bin); strings.HasPrefix(dir, os.TempDir()+"/"); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(bin, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "Effective uid: 0\n" {
		t.Errorf("got %q, want %q", out, "Effective uid: 0\n")
	}
}

func TestPauseStandin(t *testing.T) {
	bin := installFromImage(t, "pause", "3.9", "pause", "pause")
	cmd := exec.Command(bin)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let it install its signal handlers
	stopAndWait(t, cmd, syscall.SIGTERM)
}

func TestPgrepStandin(t *testing.T) {
	bin := installFromImage(t, "e2e-test-images/busybox", "1", "usr/bin/procutils", "pgrep")
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() }()
	out, err := exec.Command(bin, "-x", "sleep").Output()
	if err != nil {
		t.Fatalf("pgrep -x sleep: %v", err)
	}
	if !strings.Contains("\n"+string(out), fmt.Sprintf("\n%d\n", sleeper.Process.Pid)) {
		t.Errorf("pgrep output %q lacks pid %d", out, sleeper.Process.Pid)
	}
	err = exec.Command(bin, "-x", "no-such-process-name").Run()
	if exitErr, ok := err.(*exec.ExitError); !ok || exitErr.ExitCode() != 1 {
		t.Errorf("pgrep with no match: %v, want exit status 1", err)
	}
}
