// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// netSlotDir holds one lock file per pod-network slot. Every test takes a
// slot with flock for its lifetime, so tests of this run and of other runs
// on the same machine (another clone's make e2e, a race-build run) never
// share, or tear down, each other's bridge and subnet.
const netSlotDir = "/run/podshim-e2e-netslots"

// netSeq is where this run starts looking for a free slot.
var netSeq atomic.Int32

// podNet is one test's pod network settings.
type podNet struct {
	bridge, subnet, confDir string
}

// takeNetSlot locks a free slot (1..250) until the test ends.
func takeNetSlot(t *testing.T) int {
	t.Helper()
	if err := os.MkdirAll(netSlotDir, 0o700); err != nil {
		t.Fatal(err)
	}
	start := int(netSeq.Add(1)) + os.Getpid()%50*4
	for i := 0; i < 250; i++ {
		n := (start+i)%250 + 1
		f, err := os.OpenFile(fmt.Sprintf("%s/%d", netSlotDir, n), os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() }) // closing drops the lock
		return n
	}
	t.Fatal("every pod-network slot is taken")
	return 0
}

// newPodNet picks a bridge and subnet for one test and fences the bridge
// in: an iptables FORWARD rule drops anything from it to any other
// interface, so no pod of ours can reach beyond this machine.
func newPodNet(t *testing.T) podNet {
	t.Helper()
	n := takeNetSlot(t)
	return fencedPodNet(t, fmt.Sprintf("pse2e%d", n), fmt.Sprintf("10.197.%d.0/24", n))
}

// fencedPodNet is a pod network on the given bridge and subnet, fenced in
// as newPodNet's are; for a test that needs a wider subnet than a slot's.
func fencedPodNet(t *testing.T, bridge, subnet string) podNet {
	t.Helper()
	pn := podNet{bridge: bridge, subnet: subnet, confDir: t.TempDir()}
	rule := []string{"FORWARD", "-i", pn.bridge, "!", "-o", pn.bridge, "-j", "DROP"}
	for _, tool := range []string{"iptables", "ip6tables"} {
		if out, err := exec.Command(tool, append([]string{"-I"}, rule...)...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", tool, err, out)
		}
	}
	t.Cleanup(func() {
		for _, tool := range []string{"iptables", "ip6tables"} {
			exec.Command(tool, append([]string{"-D"}, rule...)...).Run()
		}
		exec.Command("ip", "link", "del", pn.bridge).Run()
	})
	return pn
}

func (pn podNet) config() string {
	return fmt.Sprintf("[cni]\nconf_dir = %q\ndefault_subnet = %q\ndefault_bridge = %q\n", pn.confDir, pn.subnet, pn.bridge)
}

func podConfig(name string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "e2e", Uid: name + "-uid"},
		Hostname: name,
		Labels:   map[string]string{"app": name, "suite": "e2e"},
		Linux:    &runtimeapi.LinuxPodSandboxConfig{},
	}
}

func runPod(t *testing.T, d *daemon, cfg *runtimeapi.PodSandboxConfig) string {
	t.Helper()
	resp, err := d.rt.RunPodSandbox(ctxT(t, time.Minute), &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatalf("RunPodSandbox %s: %v", cfg.GetMetadata().GetName(), err)
	}
	return resp.PodSandboxId
}

// podInfo is the verbose part of PodSandboxStatus that tests look into.
type podInfo struct {
	Pid          int    `json:"pid"`
	NetNamespace string `json:"netNamespace"`
	CgroupsPath  string `json:"cgroupsPath"`
	NetworkCheck string `json:"networkCheck"`
}

func podStatus(t *testing.T, d *daemon, id string) (*runtimeapi.PodSandboxStatus, podInfo) {
	t.Helper()
	resp, err := d.rt.PodSandboxStatus(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
	if err != nil {
		t.Fatalf("PodSandboxStatus %s: %v", id, err)
	}
	var info podInfo
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil {
		t.Fatalf("verbose info: %v: %q", err, resp.Info["info"])
	}
	return resp.Status, info
}

func removePod(t *testing.T, d *daemon, id string) {
	t.Helper()
	if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if _, err := d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
}

// inNetns runs f on a thread switched into the network namespace at path.
// Sockets created there stay in that namespace. The thread goes back to the
// host's namespace before it is released; if it cannot, it stays locked and
// dies with its goroutine, so no other goroutine ever runs in a pod's netns.
func inNetns(t *testing.T, path string, f func()) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if path == "" {
			f()
			runtime.UnlockOSThread()
			done <- nil
			return
		}
		host, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(host)
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			done <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			done <- err
			return
		}
		f()
		if unix.Setns(host, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("enter netns %s: %v", path, err)
	}
}

// serveHTTP serves a page naming who on listen, from inside netns.
func serveHTTP(t *testing.T, netns, listen, who string) {
	t.Helper()
	var ln net.Listener
	var err error
	inNetns(t, netns, func() { ln, err = net.Listen("tcp", listen) })
	if err != nil {
		t.Fatalf("listen %s in %s: %v", listen, netns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", who)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// fetch GETs url from inside netns ("" = the host's).
func fetch(t *testing.T, netns, url string) string {
	t.Helper()
	var body []byte
	var err error
	inNetns(t, netns, func() {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}}
		var resp *http.Response
		if resp, err = c.Get(url); err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
	})
	if err != nil {
		t.Fatalf("GET %s from %q: %v", url, netns, err)
	}
	return string(body)
}

func nsInode(t *testing.T, path string) string {
	t.Helper()
	target, err := os.Readlink(path)
	if err != nil {
		t.Fatal(err)
	}
	return target
}

func mountsUnder(dir string) []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			out = append(out, f[4])
		}
	}
	return out
}
