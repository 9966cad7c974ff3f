// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// sleeper is a busybox pod that only sleeps, to exec into.
func (n *ns) sleeper(name string) {
	n.t.Helper()
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod(name, 2*time.Minute, podReady)
}

// `kubectl logs -f` shows lines as the container writes them, from stdout
// and stderr, and returns once the container has exited.
func TestKubectlLogsFollow(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	// Each step waits for a file the test creates, so what the follower
	// shows at each point is known without timing.
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command:
    - sh
    - -c
    - |
      echo first
      until [ -e /tmp/go ]; do sleep 0.1; done
      echo second-on-stderr >&2
      until [ -e /tmp/end ]; do sleep 0.1; done
      echo last
`)
	n.waitPod("talker", 2*time.Minute, podPhase(corev1.PodRunning))
	logs, _ := n.startKubectl(false, "logs", "-f", "talker")
	logs.waitContains(time.Minute, "first\n")

	n.kubectl("", "exec", "talker", "--", "touch", "/tmp/go")
	out := logs.waitContains(time.Minute, "second-on-stderr\n")
	if strings.Contains(out, "last") || logs.ended() {
		t.Fatalf("before the container's last step: output %q, ended %v", out, logs.ended())
	}

	n.kubectl("", "exec", "talker", "--", "touch", "/tmp/end")
	logs.waitContains(time.Minute, "last\n")
	if err := logs.wait(time.Minute); err != nil {
		t.Fatalf("kubectl logs -f: %v; stderr %q", err, logs.stderr.String())
	}
	if got, want := logs.output(), "first\nsecond-on-stderr\nlast\n"; got != want {
		t.Errorf("kubectl logs -f showed %q, want %q", got, want)
	}
	p := n.waitPod("talker", time.Minute, podPhase(corev1.PodSucceeded))
	if cs, _ := findContainerStatus(p, "main"); cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
		t.Errorf("container state %+v, want terminated with 0", cs.State)
	}
	// The log outlives the container: a plain `kubectl logs` still has it.
	if got := n.kubectl("", "logs", "talker"); got != "first\nsecond-on-stderr\nlast\n" {
		t.Errorf("kubectl logs after exit: %q", got)
	}
}

// `kubectl logs --tail`, `--limit-bytes` and `--timestamps` cut and
// annotate the container's log as a user expects.
func TestKubectlLogsTailAndTimestamps(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: counter}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sh, -c, "for i in 1 2 3 4 5; do echo line-$i; done; exec sleep 3600"]
`)
	p := n.waitPod("counter", 2*time.Minute, podReady)
	all := "line-1\nline-2\nline-3\nline-4\nline-5\n"
	eventually(t, time.Minute, "all five lines logged", func() error {
		if got, _ := n.kubectlErr("", "logs", "counter"); got != all {
			return fmt.Errorf("kubectl logs: %q", got)
		}
		return nil
	})
	if got := n.kubectl("", "logs", "counter", "--tail=2"); got != "line-4\nline-5\n" {
		t.Errorf("--tail=2: %q", got)
	}
	if got := n.kubectl("", "logs", "counter", "--tail=0"); got != "" {
		t.Errorf("--tail=0: %q", got)
	}
	if got := n.kubectl("", "logs", "counter", "--limit-bytes=9"); got != "line-1\nli" {
		t.Errorf("--limit-bytes=9: %q", got)
	}

	started := containerStatus(t, p, "main").State.Running.StartedAt.Time
	lines := strings.Split(strings.TrimSuffix(n.kubectl("", "logs", "counter", "--timestamps"), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("--timestamps: %d lines: %q", len(lines), lines)
	}
	var prev time.Time
	for i, l := range lines {
		stamp, text, ok := strings.Cut(l, " ")
		if !ok || text != fmt.Sprintf("line-%d", i+1) {
			t.Errorf("--timestamps line %d: %q", i, l)
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			t.Errorf("--timestamps line %d: stamp %q: %v", i, stamp, err)
			continue
		}
		// The stamp is when the runtime read the line: after the container
		// started (the API's StartedAt has whole seconds), never before the
		// previous line's.
		if ts.Before(started.Add(-time.Second)) || ts.Before(prev) || ts.After(time.Now().Add(time.Minute)) {
			t.Errorf("--timestamps line %d: %v, container started %v, previous line %v", i, ts, started, prev)
		}
		prev = ts
	}
	if got := n.kubectl("", "logs", "counter", "--timestamps", "--tail=1"); !regexp.MustCompile(`^\S+Z line-5\n$`).MatchString(got) {
		t.Errorf("--timestamps --tail=1: %q", got)
	}
}

// `kubectl exec` without a terminal: stdout and stderr arrive apart, the
// command's exit status becomes kubectl's, and stdin reaches the command
// intact.
func TestKubectlExecStreams(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.sleeper("box")

	stdout, stderr, code := n.runKubectl(nil, "exec", "box", "--", "sh", "-c", "echo to-out; echo to-err >&2")
	if stdout != "to-out\n" || !strings.Contains(stderr, "to-err\n") || strings.Contains(stderr, "to-out") || code != 0 {
		t.Errorf("exec echo: stdout %q stderr %q exit %d", stdout, stderr, code)
	}

	if _, stderr, code := n.runKubectl(nil, "exec", "box", "--", "sh", "-c", "exit 3"); code != 3 {
		t.Errorf("exec 'exit 3': kubectl exited %d, want 3 (stderr %q)", code, stderr)
	}
	if _, stderr, code := n.runKubectl(nil, "exec", "box", "--", "sh", "-c", "kill -9 $$"); code != 137 {
		t.Errorf("exec of a command killed by SIGKILL: kubectl exited %d, want 137 (stderr %q)", code, stderr)
	}
	if _, stderr, code := n.runKubectl(nil, "exec", "box", "--", "false"); code != 1 {
		t.Errorf("exec false: kubectl exited %d, want 1 (stderr %q)", code, stderr)
	}
	if _, stderr, code := n.runKubectl(nil, "exec", "box", "--", "/no/such/binary"); code == 0 || !strings.Contains(stderr, "no/such/binary") {
		t.Errorf("exec of a missing binary: exit %d, stderr %q; want a failure naming it", code, stderr)
	}

	// Execs side by side each get their own streams and status.
	type result struct {
		i         int
		out, errs string
		code      int
	}
	results := make(chan result, 8)
	for i := 0; i < 8; i++ {
		go func() {
			ctx := fmt.Sprintf("echo out-%d; echo err-%d >&2; exit %d", i, i, 10+i)
			o, e, c := n.runKubectl(nil, "exec", "box", "--", "sh", "-c", ctx)
			results <- result{i, o, e, c}
		}()
	}
	for range 8 {
		r := <-results
		if r.out != fmt.Sprintf("out-%d\n", r.i) || !strings.Contains(r.errs, fmt.Sprintf("err-%d\n", r.i)) || r.code != 10+r.i {
			t.Errorf("concurrent exec %d: stdout %q stderr %q exit %d", r.i, r.out, r.errs, r.code)
		}
	}

	// Stdin: 1 MiB of random bytes through sha256sum, then EOF ends cat.
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	sum := sha256.Sum256(data)
	stdout, stderr, code = n.runKubectl(bytes.NewReader(data), "exec", "-i", "box", "--", "sha256sum")
	if got := strings.Fields(stdout); code != 0 || len(got) == 0 || got[0] != hex.EncodeToString(sum[:]) {
		t.Errorf("exec -i sha256sum: stdout %q stderr %q exit %d, want %x", stdout, stderr, code, sum)
	}
	// A large output arrives whole.
	stdout, stderr, code = n.runKubectl(nil, "exec", "box", "--", "head", "-c", "20000000", "/dev/zero")
	if len(stdout) != 20000000 || strings.Trim(stdout, "\x00") != "" || code != 0 {
		t.Errorf("exec head -c 20000000 /dev/zero: %d bytes, exit %d, stderr %q", len(stdout), code, stderr)
	}
	stdout, _, code = n.runKubectl(strings.NewReader("one\ntwo\n"), "exec", "-i", "box", "--", "sh", "-c", "while read l; do echo got:$l; done; echo eof")
	if stdout != "got:one\ngot:two\neof\n" || code != 0 {
		t.Errorf("exec -i read loop: %q exit %d", stdout, code)
	}
	// Without -i the command gets no stdin: it reads EOF at once.
	stdout, _, code = n.runKubectl(strings.NewReader("ignored\n"), "exec", "box", "--", "sh", "-c", "cat; echo eof")
	if stdout != "eof\n" || code != 0 {
		t.Errorf("exec without -i: %q exit %d", stdout, code)
	}
	// Without a terminal the command has none.
	stdout, _, code = n.runKubectl(nil, "exec", "box", "--", "sh", "-c", "tty; test -t 1 && echo stdout-is-a-tty; true")
	if !strings.Contains(stdout, "not a tty") || strings.Contains(stdout, "stdout-is-a-tty") || code != 0 {
		t.Errorf("exec without -t: tty says %q exit %d", stdout, code)
	}
}

// `kubectl exec -it` from a terminal: the command gets a terminal of its
// own of the user's size, follows the user's resizes, reads what the user
// types, and its exit status becomes kubectl's.
func TestKubectlExecTTY(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.sleeper("box")

	s := n.startKubectlTTY(33, 101, "exec", "-it", "box", "--", "sh", "-c",
		// kubectl sends the size just after the stream opens, so the command
		// may start before it lands (as with any runtime): wait up to 5 s.
		`tty; i=0; until [ "$(stty size 2>/dev/null)" = "33 101" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i+1)); done; stty size; test -t 0 && test -t 1 && echo stdio-are-ttys; exit 4`)
	err := s.wait(2 * time.Minute)
	out := s.output()
	if !regexp.MustCompile(`/dev/pts/\d+\r?\n`).MatchString(out) || !strings.Contains(out, "33 101") || !strings.Contains(out, "stdio-are-ttys") {
		t.Errorf("exec -it: output %q, want a /dev/pts/N terminal of 33 rows and 101 columns", out)
	}
	if code := exitCode(err); code != 4 {
		t.Errorf("exec -it 'exit 4': kubectl exited %d (%v), want 4", code, err)
	}

	// A command that writes much and exits at once: all of it arrives.
	s = n.startKubectlTTY(24, 80, "exec", "-it", "box", "--", "seq", "1", "30000")
	if err := s.wait(2 * time.Minute); err != nil {
		t.Errorf("exec -it seq: %v", err)
	}
	if out := s.output(); !strings.HasSuffix(out, "29999\r\n30000\r\n") || strings.Count(out, "\n") != 30000 {
		t.Errorf("exec -it seq 1 30000: %d lines, ending %q", strings.Count(out, "\n"), tail(out, 40))
	}

	// An interactive shell: typed lines run, a resize reaches the terminal.
	s = n.startKubectlTTY(24, 80, "exec", "-it", "box", "--", "sh")
	s.typeIn("echo $((6*7))x\n")
	s.waitContains(time.Minute, "42x")
	s.resize(40, 120)
	eventually(t, time.Minute, "the resize reaching the container's terminal", func() error {
		s.typeIn("stty size\n")
		time.Sleep(200 * time.Millisecond)
		if !strings.Contains(s.output(), "40 120") {
			return fmt.Errorf("output so far %q", tail(s.output(), 300))
		}
		return nil
	})
	// Ctrl-C on the user's terminal interrupts the command running in the
	// container's foreground, and the shell takes the next line.
	s.typeIn("echo sleeping-$((1+1)); sleep 1000\n")
	s.waitContains(time.Minute, "sleeping-2")
	s.typeIn("\x03")
	s.typeIn("echo back-$((2+1))\n")
	s.waitContains(time.Minute, "back-3")
	// Ctrl-D at the prompt ends the shell, and kubectl with it.
	s.typeIn("\x04")
	if err := s.wait(time.Minute); err != nil {
		t.Errorf("exec -it sh, after Ctrl-D: %v; output %q", err, tail(s.output(), 300))
	}
}

// `kubectl attach` joins a running container's output as it is written
// and, with -i, feeds its stdin.
func TestKubectlAttach(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: chat}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: echo
    image: ` + busybox + `
    stdin: true
    command: [sh, -c, 'echo ready; while read l; do echo got:$l; [ "$l" = bye ] && exit 0; done; echo stdin-closed']
  - name: ticker
    image: ` + busybox + `
    command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.3; done']
`)
	n.waitPod("chat", 2*time.Minute, podReady)

	// Output only: lines written after the attach keep coming.
	out, _ := n.startKubectl(false, "attach", "chat", "-c", "ticker")
	tick := regexp.MustCompile(`tick-(\d+)\n`)
	first := 0
	out.waitOutput(time.Minute, "a tick", func(o string) error {
		m := tick.FindStringSubmatch(o)
		if m == nil {
			return fmt.Errorf("output %q", o)
		}
		first, _ = strconv.Atoi(m[1])
		return nil
	})
	out.waitOutput(time.Minute, "a later tick", func(o string) error {
		all := tick.FindAllStringSubmatch(o, -1)
		if last, _ := strconv.Atoi(all[len(all)-1][1]); last <= first+1 {
			return fmt.Errorf("output %q", tail(o, 200))
		}
		return nil
	})
	out.stop()
	// -i to a container created without stdin: the input goes nowhere,
	// the output still comes.
	out2, in0 := n.startKubectl(true, "attach", "-i", "chat", "-c", "ticker")
	_, _ = io.WriteString(in0, "ignored\n")
	out2.waitOutput(time.Minute, "ticks with -i", func(o string) error {
		if strings.Count(o, "tick-") < 2 {
			return fmt.Errorf("output %q (stderr %q)", o, out2.stderr.String())
		}
		return nil
	})
	out2.stop()

	// Stdin: each line sent comes back from the container's process, which
	// exits on "bye"; the attach ends with it.
	chat, in := n.startKubectl(true, "attach", "-i", "chat", "-c", "echo")
	if _, err := io.WriteString(in, "hello\n"); err != nil {
		t.Fatal(err)
	}
	chat.waitContains(time.Minute, "got:hello\n")
	if _, err := io.WriteString(in, "bye\n"); err != nil {
		t.Fatal(err)
	}
	chat.waitContains(time.Minute, "got:bye\n")
	if err := chat.wait(time.Minute); err != nil {
		t.Errorf("kubectl attach after the container exited: %v; stderr %q", err, chat.stderr.String())
	}
	in.Close()
	if strings.Contains(chat.output(), "ready") {
		t.Errorf("attach replayed output from before it: %q", chat.output())
	}
	p := n.waitPod("chat", time.Minute, func(p *corev1.Pod) error {
		if cs, _ := findContainerStatus(p, "echo"); cs.State.Terminated == nil {
			return fmt.Errorf("echo container: %s", containerStates(p))
		}
		return nil
	})
	if cs, _ := findContainerStatus(p, "echo"); cs.State.Terminated.ExitCode != 0 {
		t.Errorf("echo container exited %d, want 0", cs.State.Terminated.ExitCode)
	}
	// Attaching to the exited container fails, and says so.
	if _, stderr, code := n.runKubectl(nil, "attach", "chat", "-c", "echo"); code == 0 {
		t.Errorf("attach to an exited container succeeded (stderr %q)", stderr)
	}
	if _, stderr, code := n.runKubectl(nil, "exec", "chat", "-c", "echo", "--", "true"); code == 0 {
		t.Errorf("exec in an exited container succeeded (stderr %q)", stderr)
	}
	// Everything the container wrote, before and during the attach, is in
	// its log.
	if got := n.kubectl("", "logs", "chat", "-c", "echo"); got != "ready\ngot:hello\ngot:bye\n" {
		t.Errorf("echo container's log: %q", got)
	}
}

// `kubectl attach -it` to a container with a terminal: the user types into
// the container's shell, which runs on its terminal, and leaves it.
func TestKubectlAttachTTY(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: sh
    image: ` + busybox + `
    stdin: true
    tty: true
    command: [sh]
`)
	n.waitPod("term", 2*time.Minute, podReady)
	s := n.startKubectlTTY(30, 90, "attach", "-it", "term", "-c", "sh")
	eventually(t, time.Minute, "the shell answering on its terminal", func() error {
		s.typeIn("tty; stty size; echo $((5*5))y\n")
		time.Sleep(200 * time.Millisecond)
		out := s.output()
		if !strings.Contains(out, "25y") || !regexp.MustCompile(`/dev/pts/\d+\r?\n`).MatchString(out) {
			return fmt.Errorf("output so far %q", tail(out, 300))
		}
		return nil
	})
	if out := s.output(); !strings.Contains(out, "30 90") {
		t.Errorf("attach -it: the container's terminal is not the user's 30x90: %q", tail(out, 300))
	}
	s.resize(45, 130)
	eventually(t, time.Minute, "the resize reaching the container's terminal", func() error {
		s.typeIn("stty size\n")
		time.Sleep(200 * time.Millisecond)
		if !strings.Contains(s.output(), "45 130") {
			return fmt.Errorf("output so far %q", tail(s.output(), 300))
		}
		return nil
	})
	// Leaving (killing kubectl) keeps the shell: a new attach finds it.
	_ = s.cmd.Process.Kill()
	_ = s.wait(time.Minute)
	s = n.startKubectlTTY(30, 90, "attach", "-it", "term", "-c", "sh")
	eventually(t, time.Minute, "the same shell after a re-attach", func() error {
		s.typeIn("echo again-$((7*6))\n")
		time.Sleep(200 * time.Millisecond)
		if !strings.Contains(s.output(), "again-42") {
			return fmt.Errorf("output so far %q", tail(s.output(), 300))
		}
		return nil
	})
	if cs := containerStatus(t, n.pod("term"), "sh"); cs.State.Running == nil || cs.RestartCount != 0 {
		t.Errorf("after a detach and re-attach: %s", containerStates(n.pod("term")))
	}
	s.typeIn("exit 0\n")
	if err := s.wait(time.Minute); err != nil {
		t.Errorf("attach -it, after exit: %v; output %q", err, tail(s.output(), 300))
	}
	p := n.waitPod("term", time.Minute, podPhase(corev1.PodSucceeded))
	if cs := containerStatus(t, p, "sh"); cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
		t.Errorf("container state %+v, want terminated with 0", cs.State)
	}
}

// `kubectl port-forward` from a local port to a pod's: HTTP works through
// it, a connection after another.
func TestKubectlPortForward(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: ` + nginx + `
    ports: [{containerPort: 80}]
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
`)
	n.waitPod("web", 2*time.Minute, podReady)
	pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/web", ":80")
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 80`)
	var port string
	pf.waitOutput(time.Minute, "the forwarding line", func(o string) error {
		m := forwarding.FindStringSubmatch(o)
		if m == nil {
			return fmt.Errorf("output %q", o)
		}
		port = m[1]
		return nil
	})
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 3; i++ {
		resp, err := client.Get("http://127.0.0.1:" + port + "/")
		if err != nil {
			t.Fatalf("GET %d through port-forward: %v; kubectl stderr %q", i, err, pf.stderr.String())
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome to nginx!") {
			t.Fatalf("GET %d through port-forward: %d %q %v", i, resp.StatusCode, body, err)
		}
	}
	// Twenty at once, each its own stream and connection in the pod.
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() {
			resp, err := client.Get("http://127.0.0.1:" + port + "/")
			if err != nil {
				errs <- err
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && !strings.Contains(string(body), "Welcome to nginx!") {
				err = fmt.Errorf("%d %q", resp.StatusCode, body)
			}
			errs <- err
		}()
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent GET through port-forward: %v", err)
		}
	}
	if pf.ended() {
		t.Errorf("port-forward ended: %v %q", pf.err, pf.stderr.String())
	}
}

// `kubectl cp` copies files and directories into a container and out of it,
// byte for byte.
func TestKubectlCp(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.sleeper("box")
	target := n.name + "/box"
	local := t.TempDir()

	// Into the container: a file, and a tree with binary content.
	blob := make([]byte, 256<<10)
	_, _ = rand.Read(blob)
	in := filepath.Join(local, "in")
	must(t, os.MkdirAll(filepath.Join(in, "sub", "deeper"), 0o755))
	must(t, os.WriteFile(filepath.Join(local, "note.txt"), []byte("hello from the node\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(in, "blob.bin"), blob, 0o644))
	must(t, os.WriteFile(filepath.Join(in, "sub", "deeper", "x.txt"), []byte("x\n"), 0o600))

	n.kubectl("", "cp", filepath.Join(local, "note.txt"), target+":/tmp/note.txt")
	if got := n.kubectl("", "exec", "box", "--", "cat", "/tmp/note.txt"); got != "hello from the node\n" {
		t.Errorf("copied file reads %q", got)
	}
	n.kubectl("", "cp", in, target+":/tmp/in")
	sum := sha256.Sum256(blob)
	got := n.kubectl("", "exec", "box", "--", "sh", "-c", "cd /tmp/in && find . -type f | sort && sha256sum blob.bin && cat sub/deeper/x.txt")
	want := fmt.Sprintf("./blob.bin\n./sub/deeper/x.txt\n%x  blob.bin\nx\n", sum)
	if got != want {
		t.Errorf("copied tree in the container:\n%s\nwant:\n%s", got, want)
	}

	// Out of the container: a tree the container made.
	n.kubectl("", "exec", "box", "--", "sh", "-c", "mkdir -p /tmp/out/a/b && echo one > /tmp/out/1.txt && echo two > /tmp/out/a/b/2.txt && head -c 100000 /dev/urandom > /tmp/out/a/rand")
	inPod := n.kubectl("", "exec", "box", "--", "sha256sum", "/tmp/out/a/rand")
	out := filepath.Join(local, "out")
	n.kubectl("", "cp", target+":/tmp/out", out)
	var files []string
	must(t, filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(out, p)
			files = append(files, rel)
		}
		return err
	}))
	sort.Strings(files)
	if strings.Join(files, ",") != "1.txt,a/b/2.txt,a/rand" {
		t.Errorf("copied out: %v", files)
	}
	for name, want := range map[string]string{"1.txt": "one\n", "a/b/2.txt": "two\n"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("copied out %s: %q %v", name, b, err)
		}
	}
	rnd, err := os.ReadFile(filepath.Join(out, "a", "rand"))
	if err != nil {
		t.Fatal(err)
	}
	if s := sha256.Sum256(rnd); len(rnd) != 100000 || !strings.HasPrefix(inPod, hex.EncodeToString(s[:])) {
		t.Errorf("copied out a/rand: %d bytes, sha256 %x; in the container %q", len(rnd), s, inPod)
	}
	// And a single file out, to a named local file.
	n.kubectl("", "cp", target+":/tmp/note.txt", filepath.Join(local, "back.txt"))
	if b, err := os.ReadFile(filepath.Join(local, "back.txt")); err != nil || string(b) != "hello from the node\n" {
		t.Errorf("copied back note: %q %v", b, err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// `kubectl logs` gives back a line far longer than the runtime's log line
// limit whole, many lines in order, and a last line without a newline as
// the container wrote it.
func TestKubectlLogsLongLinesAndUnterminated(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sh, -c, 'head -c 100000 /dev/zero | tr "\0" a; echo; seq 1 20000; printf no-newline-at-the-end']
`)
	n.waitPod("writer", 2*time.Minute, podPhase(corev1.PodSucceeded))
	var want strings.Builder
	want.WriteString(strings.Repeat("a", 100000) + "\n")
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	want.WriteString("no-newline-at-the-end")
	got := n.kubectl("", "logs", "writer")
	if got != want.String() {
		lines := strings.Split(got, "\n")
		t.Errorf("kubectl logs: %d bytes, %d lines, first line %d bytes, end %q; want %d bytes",
			len(got), len(lines), len(lines[0]), tail(got, 60), want.Len())
	}
	if got := n.kubectl("", "logs", "writer", "--tail=2"); got != "20000\nno-newline-at-the-end" {
		t.Errorf("--tail=2: %q", got)
	}
}

// A command run with `kubectl exec` runs as the container's process does:
// its environment, working directory, user, hostname, cgroup and
// capabilities.
func TestKubectlExecRunsInTheContainersContext(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: ctx}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {supplementalGroups: [3456]}
  containers:
  - name: main
    image: ` + busybox + `
    command: [sleep, "3600"]
    workingDir: /tmp
    env: [{name: GREETING, value: "hello there"}]
    securityContext:
      runAsUser: 1234
      runAsGroup: 2345
      capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
`)
	n.waitPod("ctx", 2*time.Minute, podReady)
	got := n.kubectl("", "exec", "ctx", "--", "sh", "-c", `echo "$GREETING"; pwd; id -u; id -g; hostname`)
	if want := "hello there\n/tmp\n1234\n2345\nctx\n"; got != want {
		t.Errorf("exec: %q, want %q", got, want)
	}
	same := func(file string) {
		t.Helper()
		got := n.kubectl("", "exec", "ctx", "--", "sh", "-c", "cat /proc/1/"+file+"; echo ---; cat /proc/self/"+file)
		pid1, self, _ := strings.Cut(got, "---\n")
		if pid1 != self || pid1 == "" {
			t.Errorf("exec'd /proc/self/%s differs from the container's:\n%s", file, got)
		}
	}
	same("cgroup")
	caps := func(status string) string {
		var keep []string
		for _, l := range strings.Split(status, "\n") {
			if strings.HasPrefix(l, "CapBnd:") || strings.HasPrefix(l, "CapEff:") || strings.HasPrefix(l, "CapPrm:") || strings.HasPrefix(l, "NoNewPrivs:") || strings.HasPrefix(l, "Seccomp:") ||
				strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:") || strings.HasPrefix(l, "Groups:") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	c1 := caps(n.kubectl("", "exec", "ctx", "--", "cat", "/proc/1/status"))
	cs := caps(n.kubectl("", "exec", "ctx", "--", "cat", "/proc/self/status"))
	if c1 != cs || !strings.Contains(c1, "CapBnd:\t0000000000000400") || !strings.Contains(c1, "3456") {
		t.Errorf("exec'd process's credentials:\n%s\nthe container's:\n%s\n(want NET_BIND_SERVICE only, 0x400, in the bounding set, and group 3456)", cs, c1)
	}
}

// `kubectl port-forward` carries a stream byte for byte both ways, passes
// the client's end of input on (a server that answers after EOF still
// answers), serves connections side by side, and tells the user when
// nothing listens on the pod's port.
func TestKubectlPortForwardStreamsData(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hasher}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [nc, -ll, -p, "9000", -e, sha256sum]
    readinessProbe:
      tcpSocket: {port: 9000}
      periodSeconds: 1
  - name: talker
    image: ` + busybox + `
    command: [nc, -ll, -p, "9100", -e, head, -c, "10000000", /dev/zero]
`)
	n.waitPod("hasher", 2*time.Minute, podReady)
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)`)
	pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/hasher", ":9000", ":9001", ":9100")
	ports := map[string]string{}
	pf.waitOutput(time.Minute, "the forwarding lines", func(o string) error {
		for _, m := range forwarding.FindAllStringSubmatch(o, -1) {
			ports[m[2]] = m[1]
		}
		if ports["9000"] == "" || ports["9001"] == "" || ports["9100"] == "" {
			return fmt.Errorf("output %q", o)
		}
		return nil
	})

	// A server that sends 10 MB and closes: all of it arrives, then EOF.
	eventually(t, time.Minute, "10 MB from the pod", func() error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+ports["9100"], 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		got, err := io.Copy(io.Discard, c)
		if err != nil || got != 10000000 {
			return fmt.Errorf("read %d bytes, %v", got, err)
		}
		return nil
	})

	hash := func(size int) error {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+ports["9000"], 10*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Minute))
		if _, err := conn.Write(data); err != nil {
			return fmt.Errorf("send %d bytes: %w", size, err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			return err
		}
		got, err := io.ReadAll(conn)
		if err != nil {
			return fmt.Errorf("read the answer to %d bytes: %w (so far %q)", size, err, got)
		}
		sum := sha256.Sum256(data)
		if f := strings.Fields(string(got)); len(f) == 0 || f[0] != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("%d bytes: server's sha256 %q, want %x", size, got, sum)
		}
		return nil
	}
	errs := make(chan error, 3)
	for _, size := range []int{1, 4 << 20, 300 << 10} {
		go func() { errs <- hash(size) }()
	}
	for i := 0; i < 3; i++ {
		if err := <-errs; err != nil {
			t.Errorf("through port-forward: %v", err)
		}
	}

	// Nothing listens on 9001 in the pod: the client's connection ends
	// without data, and kubectl says why.
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+ports["9001"], 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	got, err := io.ReadAll(conn)
	conn.Close()
	if len(got) != 0 || (err != nil && os.IsTimeout(err)) {
		t.Errorf("connection forwarded to a closed pod port: read %q, %v; want it closed", got, err)
	}
	eventually(t, time.Minute, "kubectl reporting the refused connection", func() error {
		if e := pf.stderr.String(); !strings.Contains(e, "9001") || !strings.Contains(e, "refused") {
			return fmt.Errorf("stderr %q", e)
		}
		return nil
	})
}

// `kubectl debug --target` adds an ephemeral container to a running pod
// that sees the target container's processes and files.
func TestKubectlDebugEphemeralContainer(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sh, -c, 'echo secret-of-main > /tmp/mine; exec sleep 3599']
`)
	n.waitPod("app", 2*time.Minute, podReady)
	n.kubectl("", "debug", "app", "-c", "dbg", "--image="+busybox, "--target=main", "--profile=general", "--", "sleep", "3600")
	n.waitPod("app", 2*time.Minute, func(p *corev1.Pod) error {
		for _, cs := range p.Status.EphemeralContainerStatuses {
			if cs.Name == "dbg" && cs.State.Running != nil {
				return nil
			}
		}
		return fmt.Errorf("ephemeral container dbg not running: %+v", p.Status.EphemeralContainerStatuses)
	})
	ps := n.kubectl("", "exec", "app", "-c", "dbg", "--", "ps", "-o", "pid,args")
	if !strings.Contains(ps, "sleep 3599") || !strings.Contains(ps, "sleep 3600") {
		t.Errorf("the debug container does not see the target's processes:\n%s", ps)
	}
	got := n.kubectl("", "exec", "app", "-c", "dbg", "--", "sh", "-c", `for p in /proc/[0-9]*; do [ "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" = "sleep 3599 " ] && cat $p/root/tmp/mine; done; true`)
	if !strings.Contains(got, "secret-of-main") {
		t.Errorf("the target's files through /proc/<pid>/root: %q", got)
	}
	// An interactive debug session: kubectl attaches to the new container.
	stdout, stderr, code := n.runKubectl(strings.NewReader("echo typed-$((3*3))\nexit 0\n"), "debug", "app", "-i", "-c", "dbg2", "--image="+busybox, "--target=main", "--profile=general", "--", "sh")
	if code != 0 || !strings.Contains(stdout, "typed-9") {
		t.Errorf("kubectl debug -i: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// And from a terminal, `kubectl debug -it`: a shell on a terminal that
	// sees the target's processes.
	s := n.startKubectlTTY(24, 80, "debug", "app", "-it", "-c", "dbg3", "--image="+busybox, "--target=main", "--profile=general", "--", "sh")
	eventually(t, 2*time.Minute, "the debug shell answering", func() error {
		s.typeIn("tty; ps -o args | grep -c '^sleep 3599'\n")
		time.Sleep(300 * time.Millisecond)
		if out := s.output(); !regexp.MustCompile(`/dev/pts/\d+\r\n1\r\n`).MatchString(out) {
			return fmt.Errorf("output so far %q", tail(out, 300))
		}
		return nil
	})
	s.typeIn("exit 0\n")
	if err := s.wait(time.Minute); err != nil {
		t.Errorf("kubectl debug -it, after exit: %v; output %q", err, tail(s.output(), 300))
	}
}

// When the kubelet rotates a container's log (past containerLogMaxSize,
// 10Mi by default), the runtime writes on in the new file: `kubectl logs`
// keeps showing fresh lines and a `kubectl logs -f` started before the
// rotation follows on across it.
func TestKubectlLogsAfterRotation(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: chatty}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sh, -c, 'echo begin; head -c 11000000 /dev/zero | tr "\0" x | fold -w 1000; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done']
`)
	p := n.waitPod("chatty", 2*time.Minute, podReady)
	follow, _ := n.startKubectl(false, "logs", "-f", "--tail=1", "chatty")
	follow.waitContains(time.Minute, "tick-")

	dir := podLogDir(t, n.name, "chatty", string(p.UID), "main")
	var rotated []string
	eventually(t, 2*time.Minute, "the kubelet rotating the log in "+dir, func() error {
		rotated, _ = filepath.Glob(filepath.Join(dir, "0.log.*"))
		if len(rotated) == 0 {
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				info, _ := e.Info()
				names = append(names, fmt.Sprintf("%s(%d)", e.Name(), info.Size()))
			}
			return fmt.Errorf("files %v", names)
		}
		return nil
	})
	tick := regexp.MustCompile(`tick-(\d+)`)
	lastTick := func(s string) int {
		all := tick.FindAllStringSubmatch(s, -1)
		if len(all) == 0 {
			return 0
		}
		v, _ := strconv.Atoi(all[len(all)-1][1])
		return v
	}
	// The highest tick in the rotated file was written before the
	// rotation; later ones can only come from the new file.
	var before int
	for _, f := range rotated {
		if strings.HasSuffix(f, ".gz") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if v := lastTick(string(b)); v > before {
			before = v
		}
	}
	eventually(t, time.Minute, fmt.Sprintf("kubectl logs showing a tick after tick-%d", before), func() error {
		out, err := n.kubectlErr("", "logs", "--tail=1", "chatty")
		if err != nil {
			return err
		}
		if v := lastTick(out); v <= before+2 {
			return fmt.Errorf("kubectl logs --tail=1: %q", out)
		}
		return nil
	})
	follow.waitOutput(time.Minute, fmt.Sprintf("a tick after tick-%d", before), func(o string) error {
		if v := lastTick(o); v <= before+2 {
			return fmt.Errorf("last tick %d", v)
		}
		return nil
	})
}

// A user who kills `kubectl exec` (closes the terminal, loses the
// connection) leaves nothing behind in the container: the exec'd command
// ends, with or without a terminal.
func TestKubectlExecEndsWithTheClient(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.sleeper("box")
	running := func(marker string) bool {
		ps := n.kubectl("", "exec", "box", "--", "ps", "-o", "args")
		return strings.Contains(ps, "sleep "+marker)
	}

	s := n.startKubectlTTY(24, 80, "exec", "-it", "box", "--", "sh", "-c", "echo started; exec sleep 4321")
	s.waitContains(time.Minute, "started")
	eventually(t, time.Minute, "the exec'd sleep running", func() error {
		if !running("4321") {
			return fmt.Errorf("no sleep 4321 in the container")
		}
		return nil
	})
	_ = s.cmd.Process.Kill()
	_ = s.wait(time.Minute)
	eventually(t, time.Minute, "the exec'd sleep gone after kubectl exec -it was killed", func() error {
		if running("4321") {
			return fmt.Errorf("sleep 4321 still runs in the container")
		}
		return nil
	})

	s2, in := n.startKubectl(true, "exec", "-i", "box", "--", "sh", "-c", "echo started; exec sleep 4322")
	s2.waitContains(time.Minute, "started")
	_ = s2.cmd.Process.Kill()
	_ = s2.wait(time.Minute)
	in.Close()
	eventually(t, time.Minute, "the exec'd sleep gone after kubectl exec -i was killed", func() error {
		if running("4322") {
			return fmt.Errorf("sleep 4322 still runs in the container")
		}
		return nil
	})
}

// A user who leaves `kubectl attach -i` (kills it) does not end the
// container or its stdin: a later attach talks to the same process. With
// stdinOnce, the first attach's end closes the container's stdin.
func TestKubectlAttachDetachAndReattach(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: chat}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: keep
    image: ` + busybox + `
    stdin: true
    command: [sh, -c, 'while read l; do echo got:$l; done; echo stdin-closed']
  - name: once
    image: ` + busybox + `
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'while read l; do echo got:$l; done; echo stdin-closed; exec sleep 3600']
`)
	n.waitPod("chat", 2*time.Minute, podReady)

	first, in := n.startKubectl(true, "attach", "-i", "chat", "-c", "keep")
	_, _ = io.WriteString(in, "one\n")
	first.waitContains(time.Minute, "got:one\n")
	_ = first.cmd.Process.Kill()
	_ = first.wait(time.Minute)

	second, in2 := n.startKubectl(true, "attach", "-i", "chat", "-c", "keep")
	_, _ = io.WriteString(in2, "two\n")
	second.waitContains(time.Minute, "got:two\n")
	second.stop()
	if got := n.kubectl("", "logs", "chat", "-c", "keep"); got != "got:one\ngot:two\n" {
		t.Errorf("keep's log after two attaches: %q", got)
	}
	if cs := containerStatus(t, n.pod("chat"), "keep"); cs.State.Running == nil || cs.RestartCount != 0 {
		t.Errorf("keep after the attaches: %s", containerStates(n.pod("chat")))
	}

	// stdinOnce: the first attach's stdin reaching EOF is the container's.
	once, in3 := n.startKubectl(true, "attach", "-i", "chat", "-c", "once")
	_, _ = io.WriteString(in3, "only\n")
	once.waitContains(time.Minute, "got:only\n")
	in3.Close()
	eventually(t, time.Minute, "stdinOnce container seeing EOF", func() error {
		got, err := n.kubectlErr("", "logs", "chat", "-c", "once")
		if err != nil || got != "got:only\nstdin-closed\n" {
			return fmt.Errorf("once's log %q %v", got, err)
		}
		return nil
	})
}

// `kubectl exec -it` into a container that runs as a non-root user: the
// command's terminal is its own, so it can write to it and it owns it.
func TestKubectlExecTTYAsNonRoot(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 1234, runAsGroup: 2345}
  containers:
  - name: main
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("user", 2*time.Minute, podReady)
	s := n.startKubectlTTY(24, 80, "exec", "-it", "user", "--", "sh", "-c", `t=$(tty); echo "uid $(id -u) owner $(stat -c %u $t)"; echo written-$((2*4)) > $t && echo wrote-ok`)
	if err := s.wait(2 * time.Minute); err != nil {
		t.Errorf("exec -it as 1234: %v; output %q", err, s.output())
	}
	out := s.output()
	if !strings.Contains(out, "uid 1234 owner 1234") || !strings.Contains(out, "written-8") || !strings.Contains(out, "wrote-ok") {
		t.Errorf("exec -it as 1234: %q, want uid 1234 owning and writing its terminal", out)
	}
}

// After the runtime restarts (killed, as in a crash), a user's streams work
// again on the same containers: attach reaches the same process with the
// same stdin, port-forward and logs -f work. Not parallel: it restarts the
// node's runtime under every pod.
func TestKubectlStreamsAfterPodshimRestart(t *testing.T) {
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: both}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: echo
    image: ` + busybox + `
    stdin: true
    command: [sh, -c, 'i=0; while read l; do i=$((i+1)); echo got-$i:$l; done']
  - name: web
    image: ` + nginx + `
    ports: [{containerPort: 80}]
`)
	n.waitPod("both", 2*time.Minute, podReady)
	a, in := n.startKubectl(true, "attach", "-i", "both", "-c", "echo")
	_, _ = io.WriteString(in, "before\n")
	a.waitContains(time.Minute, "got-1:before\n")
	follow, _ := n.startKubectl(false, "logs", "-f", "both", "-c", "echo")
	follow.waitContains(time.Minute, "got-1:before\n")

	node.StopPodshim(true)
	_ = a.wait(2 * time.Minute) // its stream server went away with the daemon
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := node.StartPodshim(ctx); err != nil {
		t.Fatal(err)
	}

	// The same process, its stdin still open: the count goes on.
	eventually(t, 2*time.Minute, "attach after the restart", func() error {
		b, in := n.startKubectl(true, "attach", "-i", "both", "-c", "echo")
		defer b.stop()
		_, _ = io.WriteString(in, "after\n")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) && !b.ended() {
			if strings.Contains(b.output(), "got-2:after\n") {
				return nil
			}
			time.Sleep(200 * time.Millisecond)
		}
		return fmt.Errorf("attach: output %q, ended %v (%v), stderr %q", b.output(), b.ended(), b.err, b.stderr.String())
	})
	// The follower started before the restart read the file, which the
	// monitor kept writing: it shows the new line too.
	follow.waitContains(time.Minute, "got-2:after\n")

	pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/both", ":80")
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 80`)
	var port string
	pf.waitOutput(time.Minute, "the forwarding line", func(o string) error {
		m := forwarding.FindStringSubmatch(o)
		if m == nil {
			return fmt.Errorf("output %q", o)
		}
		port = m[1]
		return nil
	})
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get("http://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("GET through port-forward after the restart: %v; stderr %q", err, pf.stderr.String())
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Welcome to nginx!") {
		t.Errorf("GET through port-forward after the restart: %d %q", resp.StatusCode, body)
	}
	if cs := containerStatus(t, n.pod("both"), "echo"); cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("echo after the restart: %s", containerStates(n.pod("both")))
	}
}

// `kubectl port-forward` reaches a server wherever in the pod it listens on
// the port: on IPv4 loopback, on IPv6 loopback only (as servers binding
// "localhost" often do), or on the pod's IP only.
func TestKubectlPortForwardLoopbackV6AndPodIP(t *testing.T) {
	t.Parallel()
	if b, err := os.ReadFile("/proc/sys/net/ipv6/conf/default/disable_ipv6"); err != nil || strings.TrimSpace(string(b)) != "0" {
		t.Skipf("IPv6 is off on this node (%q, %v): a pod has no ::1", b, err)
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: servers}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: v6
    image: ` + busybox + `
    command: [sh, -c, 'mkdir -p /www && echo served-on-ipv6-loopback > /www/index.html && exec httpd -f -p "[::1]:8081" -h /www']
  - name: podip
    image: ` + busybox + `
    env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
    command: [sh, -c, 'mkdir -p /www && echo served-on-the-pod-ip > /www/index.html && exec httpd -f -p "$POD_IP:8082" -h /www']
`)
	n.waitPod("servers", 2*time.Minute, podReady)
	// Only where they listen: nothing on 127.0.0.1 for either port.
	if _, err := n.kubectlErr("", "exec", "servers", "-c", "v6", "--", "wget", "-q", "-T", "5", "-O", "-", "http://127.0.0.1:8081/"); err == nil {
		t.Fatal("the IPv6 server answers on 127.0.0.1 too; the test would not tell")
	}
	pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/servers", ":8081", ":8082")
	forwarding := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)`)
	ports := map[string]string{}
	pf.waitOutput(time.Minute, "both forwarding lines", func(o string) error {
		for _, m := range forwarding.FindAllStringSubmatch(o, -1) {
			ports[m[2]] = m[1]
		}
		if ports["8081"] == "" || ports["8082"] == "" {
			return fmt.Errorf("output %q", o)
		}
		return nil
	})
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for remote, want := range map[string]string{"8081": "served-on-ipv6-loopback", "8082": "served-on-the-pod-ip"} {
		resp, err := client.Get("http://127.0.0.1:" + ports[remote] + "/")
		if err != nil {
			t.Errorf("GET through port-forward to pod port %s: %v; kubectl stderr %q", remote, err, pf.stderr.String())
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("GET through port-forward to pod port %s: %d %q, want %q", remote, resp.StatusCode, body, want)
		}
	}
}

// podLogDir is where the kubelet keeps a container's log files: below its
// podLogsDir (the cluster's own pod-logs directory, or the default
// /var/log/pods), in <namespace>_<pod>_<uid>/<container>.
func podLogDir(t *testing.T, namespace, pod, uid, container string) string {
	t.Helper()
	name := filepath.Join(namespace+"_"+pod+"_"+uid, container)
	for _, root := range []string{filepath.Join(node.Dir(), "pod-logs"), "/var/log/pods"} {
		if _, err := os.Stat(filepath.Join(root, name)); err == nil {
			return filepath.Join(root, name)
		}
	}
	t.Fatalf("no log directory %s under the cluster's pod-logs or /var/log/pods", name)
	return ""
}

// A process that logs by opening /dev/stdout or /dev/stderr (as nginx and
// many images do through symlinks) reaches `kubectl logs`, also as a
// non-root user; and `kubectl exec` output written that way arrives too.
func TestKubectlLogsThroughDevStdout(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	pod := func(name, user string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: ` + user + `}
  containers:
  - name: main
    image: ` + busybox + `
    command: [sh, -c, 'echo via-dev-stdout > /dev/stdout && echo via-dev-stderr > /dev/stderr && ln -s /dev/stdout /tmp/access.log && echo via-symlink >> /tmp/access.log; exec sleep 3600']
`
	}
	n.apply(pod("root", "0") + "---\n" + pod("user", "1234"))
	for _, name := range []string{"root", "user"} {
		n.waitPod(name, 2*time.Minute, podReady)
		eventually(t, time.Minute, name+"'s log", func() error {
			got, err := n.kubectlErr("", "logs", name)
			if err != nil {
				return err
			}
			for _, want := range []string{"via-dev-stdout\n", "via-dev-stderr\n", "via-symlink\n"} {
				if !strings.Contains(got, want) {
					return fmt.Errorf("kubectl logs %s: %q, want %q in it", name, got, want)
				}
			}
			return nil
		})
		stdout, stderr, code := n.runKubectl(nil, "exec", name, "--", "sh", "-c", "echo exec-out > /dev/stdout && echo exec-err > /dev/stderr")
		if stdout != "exec-out\n" || !strings.Contains(stderr, "exec-err\n") || code != 0 {
			t.Errorf("exec in %s writing /dev/stdout and /dev/stderr: stdout %q stderr %q exit %d", name, stdout, stderr, code)
		}
	}
}

// The log of a container with a terminal reads as plain lines, as with the
// reference runtime: the terminal's carriage returns do not show in
// `kubectl logs`.
func TestKubectlLogsOfTTYContainer(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    tty: true
    command: [sh, -c, 'echo first-line; echo second-line; test -t 1 && echo on-a-tty']
`)
	n.waitPod("term", 2*time.Minute, podPhase(corev1.PodSucceeded))
	if got := n.kubectl("", "logs", "term"); got != "first-line\nsecond-line\non-a-tty\n" {
		t.Errorf("kubectl logs of a tty container: %q", got)
	}
}

// A `kubectl exec` session ends when its container does, with or without a
// PID namespace of the container's own: nothing exec'd, and no child of
// its main process, outlives the container.
func TestKubectlExecEndsWithTheContainer(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	pod := func(name string, share bool) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  restartPolicy: Never
  shareProcessNamespace: %v
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: [sh, -c, 'sleep 2002 & until [ -e /tmp/stop ]; do sleep 0.1; done']
  - name: side
    image: %s
    command: [sleep, "3600"]
`, name, share, busybox, busybox)
	}
	n.apply(pod("own", false) + "---\n" + pod("shared", true))
	for _, name := range []string{"own", "shared"} {
		n.waitPod(name, 2*time.Minute, podReady)
		s, _ := n.startKubectl(false, "exec", name, "-c", "main", "--", "sh", "-c", "echo started; exec sleep 1001")
		s.waitContains(time.Minute, "started")
		n.kubectl("", "exec", name, "-c", "main", "--", "touch", "/tmp/stop")
		n.waitPod(name, time.Minute, func(p *corev1.Pod) error {
			if cs, _ := findContainerStatus(p, "main"); cs.State.Terminated == nil {
				return fmt.Errorf("main not terminated: %s", containerStates(p))
			}
			return nil
		})
		err := s.wait(time.Minute)
		if err == nil {
			t.Errorf("%s: kubectl exec of a killed sleep succeeded", name)
		}
		if name == "shared" {
			if ps := n.kubectl("", "exec", name, "-c", "side", "--", "ps", "-o", "args"); strings.Contains(ps, "sleep 1001") || strings.Contains(ps, "sleep 2002") {
				t.Errorf("shared: the exec'd sleep or main's child outlived the container:\n%s", ps)
			}
		}
	}
}

// `kubectl run -i --rm --restart=Never`: the user's input reaches the new
// pod's process, its output comes back, its exit status becomes kubectl's,
// and the pod is gone afterwards.
func TestKubectlRunInteractive(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	stdout, stderr, code := n.runKubectl(strings.NewReader("line-a\nline-b\n"), "run", "once", "-i", "--rm", "--restart=Never", "--image="+busybox, "--pod-running-timeout=2m", "--", "sh", "-c", "while read l; do echo got:$l; done; exit 5")
	if !strings.Contains(stdout, "got:line-a\ngot:line-b\n") || code != 5 {
		t.Errorf("kubectl run -i: stdout %q, stderr %q, exit %d; want both lines back and exit 5", stdout, stderr, code)
	}
	// From a terminal, -it: a shell in the new pod, on a terminal.
	s := n.startKubectlTTY(24, 80, "run", "term", "-it", "--rm", "--restart=Never", "--image="+busybox, "--pod-running-timeout=2m", "--", "sh")
	eventually(t, 2*time.Minute, "the shell of kubectl run -it answering", func() error {
		s.typeIn("tty; echo run-$((8*8))\n")
		time.Sleep(300 * time.Millisecond)
		if out := s.output(); !strings.Contains(out, "run-64") || !regexp.MustCompile(`/dev/pts/\d+`).MatchString(out) {
			return fmt.Errorf("output so far %q", tail(out, 300))
		}
		return nil
	})
	s.typeIn("exit 0\n")
	if err := s.wait(2 * time.Minute); err != nil {
		t.Errorf("kubectl run -it, after exit 0: %v; output %q", err, tail(s.output(), 300))
	}
	eventually(t, time.Minute, "the --rm pods gone", func() error {
		if out, _ := n.kubectlErr("", "get", "pods", "-o", "name"); strings.TrimSpace(out) != "" {
			return fmt.Errorf("pods left: %q", out)
		}
		return nil
	})
}

// Lines written to stdout and stderr at the same time come out of `kubectl
// logs` whole, none lost, each stream's in its order.
func TestKubectlLogsConcurrentStreams(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: both}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command:
    - sh
    - -c
    - |
      o=$(head -c 3000 /dev/zero | tr '\0' o); e=$(head -c 3000 /dev/zero | tr '\0' e)
      (i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo "out-$i-$o"; done) &
      (i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo "err-$i-$e" >&2; done) &
      wait
`)
	n.waitPod("both", 3*time.Minute, podPhase(corev1.PodSucceeded))
	logs := n.kubectl("", "logs", "both")
	next := map[string]int{"out": 1, "err": 1}
	fill := map[string]string{"out": strings.Repeat("o", 3000), "err": strings.Repeat("e", 3000)}
	bad := 0
	for _, l := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		parts := strings.SplitN(l, "-", 3)
		if len(parts) != 3 || fill[parts[0]] == "" || parts[2] != fill[parts[0]] || parts[1] != strconv.Itoa(next[parts[0]]) {
			if bad++; bad <= 3 {
				t.Errorf("line %q… (%d bytes) is not the next whole line of its stream (want %v)", l[:min(len(l), 40)], len(l), next)
			}
			continue
		}
		next[parts[0]]++
	}
	if next["out"] != 1501 || next["err"] != 1501 {
		t.Errorf("got %d stdout and %d stderr lines in order, want 1500 each (%d bad lines)", next["out"]-1, next["err"]-1, bad)
	}
}

// podshimPid finds the cluster's podshim daemon by its config file.
func podshimPid(t *testing.T) int {
	t.Helper()
	cfg := filepath.Join(node.Dir(), "podshim.toml")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), cfg) && !strings.Contains(string(b), "monitor") {
			return pid
		}
	}
	t.Fatalf("no podshim process with --config %s", cfg)
	return 0
}

func openFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// Streams that end, normally or by the client going away, leave nothing
// open in the runtime. Not parallel, so that only its own streams count.
func TestKubectlStreamsLeaveNothingOpen(t *testing.T) {
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    stdin: true
    command: [sh, -c, 'while read l; do echo got:$l; done']
  - name: web
    image: ` + nginx + `
`)
	n.waitPod("box", 2*time.Minute, podReady)
	pid := podshimPid(t)
	round := func() {
		for i := 0; i < 5; i++ {
			n.runKubectl(nil, "exec", "box", "-c", "main", "--", "sh", "-c", "echo x; exit 3")
			n.runKubectl(strings.NewReader("in\n"), "exec", "-i", "box", "-c", "main", "--", "cat")
		}
		killed := n.startKubectlTTY(24, 80, "exec", "-it", "box", "-c", "main", "--", "sh", "-c", "echo started; exec sleep 999")
		killed.waitContains(time.Minute, "started")
		_ = killed.cmd.Process.Kill()
		_ = killed.wait(time.Minute)
		a, in := n.startKubectl(true, "attach", "-i", "box", "-c", "main")
		_, _ = io.WriteString(in, "hi\n")
		a.waitContains(time.Minute, "got:hi")
		_ = a.cmd.Process.Kill()
		_ = a.wait(time.Minute)
		pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/box", ":80")
		m := pf.waitOutput(time.Minute, "forwarding", func(o string) error {
			if !strings.Contains(o, "Forwarding from 127.0.0.1:") {
				return fmt.Errorf("output %q", o)
			}
			return nil
		})
		port, _, _ := strings.Cut(strings.SplitN(m, "127.0.0.1:", 2)[1], " ")
		for i := 0; i < 5; i++ {
			if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://127.0.0.1:" + port + "/"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		pf.stop()
	}
	round() // the first round opens what stays open: connections, caches
	eventually(t, time.Minute, "the exec'd sleep gone", func() error {
		if ps := n.kubectl("", "exec", "box", "-c", "main", "--", "ps", "-o", "args"); strings.Contains(ps, "sleep 999") {
			return fmt.Errorf("still running")
		}
		return nil
	})
	before := openFDs(t, pid)
	for i := 0; i < 3; i++ {
		round()
	}
	eventually(t, time.Minute, "podshim's descriptors back to where they were", func() error {
		if now := openFDs(t, pid); now > before+5 {
			return fmt.Errorf("podshim holds %d descriptors, %d before three rounds of streams", now, before)
		}
		return nil
	})
	if ps := n.kubectl("", "exec", "box", "-c", "main", "--", "ps", "-o", "args"); strings.Contains(ps, "sleep 999") {
		t.Errorf("a killed exec's command still runs:\n%s", ps)
	}
}
