// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// crictl runs the crictl built beside the podshim under test (make e2e
// builds it), the way people debugging a node use the streams.
func crictl(t *testing.T, d *daemon, stdin io.Reader, args ...string) (string, string, error) {
	t.Helper()
	bin := filepath.Join(filepath.Dir(d.bin), "crictl")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("crictl is needed beside %s (make e2e builds it): %v", d.bin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--runtime-endpoint", "unix://" + d.sock, "--image-endpoint", "unix://" + d.sock, "--timeout", "30s"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func TestExecStreamsOutputInputAndExitCode(t *testing.T) {
	e := newPodEnv(t, "")
	id := e.run(t, "sleeper", "sleep", "1000")
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)

	// crictl reports the command's exit code and fails itself.
	out, errOut, err := crictl(t, e.d, nil, "exec", id, "sh", "-c", "echo out; echo err >&2; exit 3")
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || strings.TrimSpace(out) != "out" || !strings.Contains(errOut, "err\n") || !strings.Contains(errOut, "exit code 3") {
		t.Fatalf("exec: %v, stdout %q, stderr %q", err, out, errOut)
	}
	out, _, err = crictl(t, e.d, strings.NewReader("piped input\n"), "exec", "-i", id, "cat")
	if err != nil || out != "piped input\n" {
		t.Fatalf("exec -i cat: %q %v", out, err)
	}
}

func TestPortForwardReachesThePodsLoopback(t *testing.T) {
	e := newPodEnv(t, "")
	dir := "/www"
	id := e.run(t, "web", "sh", "-c", "mkdir -p "+dir+" && echo pod-page > "+dir+"/index.html && exec httpd -f -p 127.0.0.1:8080 -h "+dir)
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	bin := filepath.Join(filepath.Dir(e.d.bin), "crictl")
	var pfLog bytes.Buffer
	pf := exec.Command(bin, "--runtime-endpoint", "unix://"+e.d.sock, "port-forward", e.pod, itoa(port)+":8080")
	pf.Stdout, pf.Stderr = &pfLog, &pfLog
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pf.Process.Kill(); pf.Wait() })
	url := "http://127.0.0.1:" + itoa(port) + "/"
	var body []byte
	for i := 0; i < 100; i++ {
		resp, err := http.Get(url)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), "pod-page") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("port-forward never reached the pod's server: %q\ncrictl: %s\npodshim: %s", body, pfLog.String(), e.d.log)
}

func TestAttachJoinsTheContainersStdio(t *testing.T) {
	e := newPodEnv(t, "")
	cfg := e.containerConfig("echoer", "sh", "-c", "while read l; do echo got $l; done")
	cfg.Stdin, cfg.StdinOnce = true, true
	id := e.create(t, cfg)
	if _, err := e.d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_RUNNING)
	out, errOut, err := crictl(t, e.d, strings.NewReader("one\ntwo\n"), "attach", "-i", id)
	if err != nil || !strings.Contains(out, "got one") || !strings.Contains(out, "got two") {
		t.Fatalf("attach: %v, stdout %q, stderr %q", err, out, errOut)
	}
	// StdinOnce: the end of the attached input closes the container's stdin.
	if st := e.waitState(t, id, runtimeapi.ContainerState_CONTAINER_EXITED); st.ExitCode != 0 {
		t.Fatalf("exit %d", st.ExitCode)
	}
	if !strings.Contains(string(mustRead(t, e.status(t, id).LogPath)), "got two") {
		t.Fatal("attached output must reach the CRI log too")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func itoa(n int) string { return strconv.Itoa(n) }
