// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// freeHostPort picks a TCP port in an unusual range that nothing on the
// node listens on, neither on loopback nor on every address.
func freeHostPort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 100; i++ {
		off, _ := rand.Int(rand.Reader, big.NewInt(5000))
		port := 41000 + int(off.Int64())
		l, err := net.Listen("tcp4", ":"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port in 41000-45999")
	return 0
}

// A pod's hostPort answers on the node's loopback address: a user on the
// node reaches the nginx in the pod at 127.0.0.1:<hostPort>.
func TestHostPortFromNodeLoopback(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	port, port2 := freeHostPort(t), freeHostPort(t)
	for port2 == port {
		port2 = freeHostPort(t)
	}
	n.apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: %s
    ports: [{containerPort: 80, hostPort: %d, protocol: TCP}]
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: web-loopback}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: %s
    ports: [{containerPort: 80, hostPort: %d, hostIP: 127.0.0.1, protocol: TCP}]
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
`, nginx, port, nginx, port2))
	n.waitPod("web", 2*time.Minute, podReady)
	n.waitPod("web-loopback", 2*time.Minute, podReady)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	welcome := func(url string) func() error {
		return func() error {
			resp, err := client.Get(url)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome to nginx!") {
				return fmt.Errorf("%d %q", resp.StatusCode, body)
			}
			return nil
		}
	}
	eventually(t, time.Minute, "GET "+url, welcome(url))
	// The same with the port bound to hostIP 127.0.0.1.
	url2 := fmt.Sprintf("http://127.0.0.1:%d/", port2)
	eventually(t, time.Minute, "GET "+url2+" (hostIP 127.0.0.1)", welcome(url2))
	// Deleting the pod takes the mapping away with it: the port is free
	// for the next pod, and nothing answers on it.
	n.kubectl("", "delete", "pod", "web", "--wait=true", "--timeout=90s")
	eventually(t, time.Minute, "hostPort gone with the pod", func() error {
		resp, err := client.Get(url)
		if err != nil {
			return nil
		}
		resp.Body.Close()
		return fmt.Errorf("GET %s still answers %d", url, resp.StatusCode)
	})
	// A new pod takes the freed port, and the node reaches it, not the
	// old pod's address.
	n.apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web2}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: nginx
    image: %s
    ports: [{containerPort: 80, hostPort: %d, protocol: TCP}]
    readinessProbe:
      tcpSocket: {port: 80}
      periodSeconds: 1
`, nginx, port))
	n.waitPod("web2", 2*time.Minute, podReady)
	eventually(t, time.Minute, "GET "+url+" served by the new pod", welcome(url))
}

// defaultRouteInterface is the node interface holding its IPv4 default
// route, or "" when it has none.
func defaultRouteInterface(t *testing.T) string {
	t.Helper()
	f, err := os.Open("/proc/net/route")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 2 && fields[1] == "00000000" {
			return fields[0]
		}
	}
	return ""
}

// netDevNames lists the interfaces named in a /proc/net/dev.
func netDevNames(dev string) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(dev, "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok {
			names[strings.TrimSpace(name)] = true
		}
	}
	return names
}

// A hostNetwork pod is on the node's network: it has the node's hostname
// and interfaces, and reaches a listener the node has on 127.0.0.1.
func TestHostNetworkSeesNodeNetwork(t *testing.T) {
	t.Parallel()
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	want := hex.EncodeToString(token)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, want)
	}))
	defer srv.Close()

	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: hostnet}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	p := n.waitPod("hostnet", 2*time.Minute, podReady)
	if p.Status.PodIP == "" || p.Status.PodIP != p.Status.HostIP {
		t.Errorf("hostNetwork pod IP %q, want the node's %q", p.Status.PodIP, p.Status.HostIP)
	}

	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(n.kubectl("", "exec", "hostnet", "--", "hostname")); got != hostname {
		t.Errorf("hostname in the pod %q, want the node's %q", got, hostname)
	}

	names := netDevNames(n.kubectl("", "exec", "hostnet", "--", "cat", "/proc/net/dev"))
	if ifc := defaultRouteInterface(t); ifc != "" && !names[ifc] {
		t.Errorf("the pod does not see the node's %s: %v", ifc, names)
	}
	if !names["lo"] {
		t.Errorf("the pod sees no loopback: %v", names)
	}
	got := n.kubectl("", "exec", "hostnet", "--", "wget", "-q", "-O", "-", srv.URL+"/")
	if got != want {
		t.Errorf("wget %s from the pod: %q, want %q", srv.URL, got, want)
	}
}

// With shareProcessNamespace a container sees the other containers'
// processes and the pod's infra process as PID 1; without it, only its
// own.
func TestShareProcessNamespace(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	pod := func(name string, share bool) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  shareProcessNamespace: %v
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: %s
    command: [sleep, "3601"]
  - name: b
    image: %s
    command: [sleep, "3602"]
`, name, share, busybox, busybox)
	}
	n.apply(pod("shared", true) + "---\n" + pod("apart", false))
	n.waitPod("shared", 2*time.Minute, podReady)
	n.waitPod("apart", 2*time.Minute, podReady)

	ps := n.kubectl("", "exec", "shared", "-c", "b", "--", "ps", "-o", "pid,args")
	if !strings.Contains(ps, "sleep 3601") || !strings.Contains(ps, "sleep 3602") {
		t.Errorf("shared: container b's ps does not show both containers' processes:\n%s", ps)
	}
	if !strings.Contains(ps, "pause") {
		t.Errorf("shared: container b's ps does not show the infra process:\n%s", ps)
	}
	if got := n.kubectl("", "exec", "shared", "-c", "a", "--", "cat", "/proc/1/cmdline"); !strings.Contains(got, "pause") {
		t.Errorf("shared: PID 1 is %q, want the infra (pause) process", got)
	}
	// Another container's files are reachable through its /proc entry, as
	// the Kubernetes docs describe for debugging sidecars.
	if got := n.kubectl("", "exec", "shared", "-c", "b", "--", "sh", "-c", `for p in /proc/[0-9]*; do if [ "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" = "sleep 3601 " ]; then test -d $p/root/bin && echo found; fi; done`); !strings.Contains(got, "found") {
		t.Errorf("shared: container a's root not reachable from b through /proc: %q", got)
	}

	// Orphans are the infra process's to reap: a process whose parent
	// exited ends without staying a zombie.
	n.kubectl("", "exec", "shared", "-c", "b", "--", "sh", "-c", "(sleep 0.5 &); true")
	eventually(t, time.Minute, "the orphaned sleep reaped", func() error {
		ps := n.kubectl("", "exec", "shared", "-c", "b", "--", "ps", "-o", "stat,args")
		for _, l := range strings.Split(ps, "\n") {
			if f := strings.Fields(l); len(f) > 1 && (strings.HasPrefix(f[0], "Z") || f[1] == "sleep" && len(f) > 2 && f[2] == "0.5") {
				return fmt.Errorf("still there:\n%s", ps)
			}
		}
		return nil
	})

	// A process of one container can signal another's: b ends a's sleep,
	// and the kubelet restarts a.
	n.kubectl("", "exec", "shared", "-c", "b", "--", "sh", "-c", `for p in /proc/[0-9]*; do [ "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" = "sleep 3601 " ] && kill ${p#/proc/}; done; true`)
	n.waitPod("shared", 2*time.Minute, func(p *corev1.Pod) error {
		if cs, _ := findContainerStatus(p, "a"); cs.RestartCount < 1 || cs.State.Running == nil {
			return fmt.Errorf("a not restarted yet: %s", containerStates(p))
		}
		return nil
	})

	ps = n.kubectl("", "exec", "apart", "-c", "b", "--", "ps", "-o", "pid,args")
	if strings.Contains(ps, "sleep 3601") || strings.Contains(ps, "pause") || !strings.Contains(ps, "sleep 3602") {
		t.Errorf("apart: container b sees more than its own processes:\n%s", ps)
	}
	if got := n.kubectl("", "exec", "apart", "-c", "b", "--", "cat", "/proc/1/cmdline"); !strings.Contains(got, "3602") {
		t.Errorf("apart: PID 1 of container b is %q, want its own sleep", got)
	}
}

// Namespaced sysctls set in the pod's securityContext are what the pod's
// containers read, and the node's own values stay as they were.
func TestSysctlNamespaced(t *testing.T) {
	t.Parallel()
	read := func(name string) string {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(b)), " ")
	}
	sysctls := map[string]string{
		"net.ipv4.ip_local_port_range":        "40123 50123",
		"kernel.shm_rmid_forced":              "1",
		"net.ipv4.ip_unprivileged_port_start": "1001",
		"net.ipv4.ping_group_range":           "0 2147483647",
	}
	onNode := map[string]string{}
	for name, v := range sysctls {
		onNode[name] = read(name)
		if onNode[name] == v {
			t.Logf("the node already has %s = %s; the pod's value will not tell", name, v)
		}
	}
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: tuned}
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    sysctls:
    - {name: net.ipv4.ip_local_port_range, value: "40123 50123"}
    - {name: kernel.shm_rmid_forced, value: "1"}
    - {name: net.ipv4.ip_unprivileged_port_start, value: "1001"}
    - {name: net.ipv4.ping_group_range, value: "0 2147483647"}
  containers:
  - name: a
    image: ` + busybox + `
    command: [sleep, "3600"]
  - name: b
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("tuned", 2*time.Minute, podReady)
	n.waitPod("plain", 2*time.Minute, podReady)
	// A pod without sysctls has the kernel's defaults for a new namespace,
	// not the other pod's values.
	if got := n.kubectl("", "exec", "plain", "--", "cat", "/proc/sys/net/ipv4/ip_local_port_range"); strings.Join(strings.Fields(got), " ") == sysctls["net.ipv4.ip_local_port_range"] {
		t.Errorf("a pod without sysctls reads the other pod's ip_local_port_range %q", got)
	}
	for _, c := range []string{"a", "b"} {
		for name, want := range sysctls {
			got := n.kubectl("", "exec", "tuned", "-c", c, "--", "cat", "/proc/sys/"+strings.ReplaceAll(name, ".", "/"))
			if got = strings.Join(strings.Fields(got), " "); got != want {
				t.Errorf("container %s reads %s = %q, want %q", c, name, got, want)
			}
		}
	}
	// busybox sysctl, as a user in the pod would check.
	if got := n.kubectl("", "exec", "tuned", "-c", "a", "--", "sysctl", "-n", "kernel.shm_rmid_forced"); strings.TrimSpace(got) != "1" {
		t.Errorf("sysctl -n kernel.shm_rmid_forced in the pod: %q", got)
	}
	for name, v := range onNode {
		if got := read(name); got != v {
			t.Errorf("the node's %s changed from %q to %q", name, v, got)
		}
	}
}

// hostPID and hostIPC put a pod in the node's PID and IPC namespaces: it
// sees the node's processes (this test's own among them), the node's
// System V shared memory and its /dev/shm; a pod without them sees none
// of it.
func TestHostPIDAndIPC(t *testing.T) {
	t.Parallel()
	token := make([]byte, 6)
	_, _ = rand.Read(token)
	shmFile := "/dev/shm/podshim-e2e-" + hex.EncodeToString(token)
	if err := os.WriteFile(shmFile, []byte("from the node"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(shmFile)
	key := int(0x7e000000 | int(token[0])<<16 | int(token[1])<<8 | int(token[2]))
	shmid, err := unix.SysvShmGet(key, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
	if err != nil {
		t.Skipf("System V shared memory on this node: %v", err)
	}
	defer func() { _, _ = unix.SysvShmCtl(shmid, unix.IPC_RMID, nil) }()
	// /proc/sysvipc/shm lists segments by key in decimal.
	keyField := strconv.Itoa(key)
	hasKey := func(table string) bool {
		for _, l := range strings.Split(table, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == keyField {
				return true
			}
		}
		return false
	}

	n := newNS(t)
	pod := func(name string, host bool) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  hostPID: %v
  hostIPC: %v
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: [sleep, "3600"]
`, name, host, host, busybox)
	}
	n.apply(pod("host", true) + "---\n" + pod("own", false))
	n.waitPod("host", 2*time.Minute, podReady)
	n.waitPod("own", 2*time.Minute, podReady)

	self := strconv.Itoa(os.Getpid())
	nodeInit, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	got := n.kubectl("", "exec", "host", "--", "sh", "-c", "cat /proc/1/cmdline; echo; cat /proc/"+self+"/cmdline")
	if first, rest, _ := strings.Cut(got, "\n"); first != string(nodeInit) || !strings.Contains(rest, "e2e.test") {
		t.Errorf("hostPID pod: PID 1 %q (node's %q), PID %s %q (this test)", first, nodeInit, self, rest)
	}
	if !hasKey(n.kubectl("", "exec", "host", "--", "cat", "/proc/sysvipc/shm")) {
		t.Errorf("hostIPC pod does not see the node's shared memory segment %s", keyField)
	}
	if got := n.kubectl("", "exec", "host", "--", "cat", shmFile); got != "from the node" {
		t.Errorf("hostIPC pod reads %s as %q", shmFile, got)
	}

	got = n.kubectl("", "exec", "own", "--", "sh", "-c", "test -e /proc/"+self+"/cmdline && grep -q e2e.test /proc/"+self+"/cmdline && echo sees-the-test; cat /proc/1/cmdline")
	if strings.Contains(got, "sees-the-test") || !strings.HasPrefix(got, "sleep\x003600") {
		t.Errorf("pod without hostPID: %q, want its own PID namespace with its sleep as PID 1", got)
	}
	if hasKey(n.kubectl("", "exec", "own", "--", "cat", "/proc/sysvipc/shm")) {
		t.Errorf("pod without hostIPC sees the node's shared memory segment %s", keyField)
	}
	if _, err := n.kubectlErr("", "exec", "own", "--", "test", "-e", shmFile); err == nil {
		t.Errorf("pod without hostIPC sees the node's %s", shmFile)
	}
}

// `kubectl port-forward` to a hostNetwork pod reaches its server on the
// node's loopback, where the pod listens.
func TestHostNetworkPortForward(t *testing.T) {
	t.Parallel()
	port := freeHostPort(t)
	n := newNS(t)
	n.apply(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hostsrv}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: %s
    command: [nc, -ll, -p, "%d", -e, echo, answer-from-the-host-network]
    ports: [{containerPort: %d, hostPort: %d}]
`, busybox, port, port, port))
	n.waitPod("hostsrv", 2*time.Minute, podReady)
	pf, _ := n.startKubectl(false, "port-forward", "--address", "127.0.0.1", "pod/hostsrv", fmt.Sprintf(":%d", port))
	var local string
	pf.waitOutput(time.Minute, "the forwarding line", func(o string) error {
		i := strings.Index(o, "Forwarding from 127.0.0.1:")
		if i < 0 {
			return fmt.Errorf("output %q", o)
		}
		local, _, _ = strings.Cut(o[i+len("Forwarding from 127.0.0.1:"):], " ")
		return nil
	})
	answer := func(addr string) func() error {
		return func() error {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			b, err := io.ReadAll(c)
			if got := strings.TrimSpace(string(b)); got != "answer-from-the-host-network" {
				return fmt.Errorf("read %q %v", got, err)
			}
			return nil
		}
	}
	eventually(t, time.Minute, "an answer through port-forward", answer("127.0.0.1:"+local))
	// Its declared hostPort is the port it binds on the node itself: no
	// mapping stands in the way.
	eventually(t, time.Minute, "an answer on the node's own port", answer(fmt.Sprintf("127.0.0.1:%d", port)))
}

// `kubectl debug node/<node>` gives a user a pod in the node's namespaces
// with the node's root filesystem at /host.
func TestHostNodeDebugPod(t *testing.T) {
	t.Parallel()
	n := newNS(t)
	_, stderr, code := n.runKubectl(nil, "debug", "node/"+node.NodeName(), "--image="+busybox, "--profile=general", "--", "sleep", "3600")
	if code != 0 {
		t.Fatalf("kubectl debug node: exit %d: %s", code, stderr)
	}
	name := strings.TrimPrefix(strings.TrimSpace(n.kubectl("", "get", "pods", "-o", "name")), "pod/")
	if name == "" || strings.Contains(name, "\n") {
		t.Fatalf("want the one debugging pod, have %q", name)
	}
	n.waitPod(name, 2*time.Minute, podReady)

	self := strconv.Itoa(os.Getpid())
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "seen-from-the-debug-pod")
	if err := os.WriteFile(marker, []byte("node file"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := n.kubectl("", "exec", name, "--", "sh", "-c", "hostname; cat /host"+marker+"; echo; grep -c e2e.test /proc/"+self+"/cmdline")
	if want := hostname + "\nnode file\n1\n"; got != want {
		t.Errorf("in the node debugging pod: %q, want %q (node hostname, a node file under /host, this test's process)", got, want)
	}
	// chroot /host is how a user then works on the node.
	if got := n.kubectl("", "exec", name, "--", "chroot", "/host", "cat", marker); got != "node file" {
		t.Errorf("chroot /host cat %s: %q", marker, got)
	}
}

// A hostPort mapping made before the runtime restarted is still removed
// with its pod after it: a new pod on the same hostPort is the one the
// node reaches. Not parallel: it restarts the node's runtime.
func TestHostPortAfterPodshimRestart(t *testing.T) {
	n := newNS(t)
	port := freeHostPort(t)
	web := func(name, marker string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: %s
    command: [nc, -ll, -p, "8080", -e, echo, %s]
    ports: [{containerPort: 8080, hostPort: %d}]
`, name, busybox, marker, port)
	}
	answer := func(want string) func() error {
		return func() error {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			b, _ := io.ReadAll(c)
			if got := strings.TrimSpace(string(b)); got != want {
				return fmt.Errorf("127.0.0.1:%d answers %q, want %q", port, got, want)
			}
			return nil
		}
	}
	n.apply(web("first", "from-the-first-pod"))
	n.waitPod("first", 2*time.Minute, podReady)
	eventually(t, time.Minute, "the first pod on the hostPort", answer("from-the-first-pod"))

	node.StopPodshim(true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := node.StartPodshim(ctx); err != nil {
		t.Fatal(err)
	}
	n.kubectl("", "delete", "pod", "first", "--wait=true", "--timeout=90s")
	n.apply(web("second", "from-the-second-pod"))
	n.waitPod("second", 2*time.Minute, podReady)
	eventually(t, time.Minute, "the second pod on the freed hostPort", answer("from-the-second-pod"))
}
