// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Root tests run against the CNI plugins the Makefile builds from go.mod.
const pluginDirRel = "../bin/cni"

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces, bridges, iptables)")
	}
}

func pluginDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(pluginDirRel)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"bridge", "host-local", "portmap"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Skipf("CNI plugin %s not built (run `make tools`): %v", p, err)
		}
	}
	return dir
}

// fakeBinDir holds empty files named like plugins: enough for config tests,
// which only look plugins up.
func fakeBinDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomPodID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "pstest" + hex.EncodeToString(b)
}

// testNet is one test's private network: bridge pstest<N> on
// 10.199.<N>.0/24, with forwarding from it to anywhere else dropped so pods
// can reach nothing beyond this machine.
type testNet struct {
	n        int
	bridge   string
	subnet   *net.IPNet
	gateway  net.IP
	confDir  string
	stateDir string
	bins     []string
}

var netCounter atomic.Int32

// newTestNet reserves a bridge name by creating the bridge itself: LinkAdd
// is atomic, so two test processes on this machine never share one.
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	requireRoot(t)
	bins := []string{pluginDir(t)}
	start := (os.Getpid()*7 + int(netCounter.Add(1))*13) % 200
	for i := 0; i < 200; i++ {
		n := 20 + (start+i)%200
		name := fmt.Sprintf("pstest%d", n)
		_, subnet, _ := net.ParseCIDR(fmt.Sprintf("10.199.%d.0/24", n))
		if subnetInUse(t, subnet) {
			continue
		}
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := netlink.LinkAdd(br); err != nil {
			if errors.Is(err, unix.EEXIST) {
				continue
			}
			t.Fatalf("create bridge %s: %v", name, err)
		}
		tn := &testNet{
			n:        n,
			bridge:   name,
			subnet:   subnet,
			gateway:  net.IPv4(10, 199, byte(n), 1).To4(),
			confDir:  filepath.Join(t.TempDir(), "net.d"),
			stateDir: filepath.Join(t.TempDir(), "state"),
			bins:     bins,
		}
		t.Cleanup(func() {
			if l, err := netlink.LinkByName(name); err == nil {
				if err := netlink.LinkDel(l); err != nil {
					t.Errorf("delete bridge %s: %v", name, err)
				}
			}
		})
		rule := []string{"FORWARD", "-i", name, "!", "-o", name, "-j", "DROP"}
		iptables(t, append([]string{"-I"}, rule...)...)
		t.Cleanup(func() { iptables(t, append([]string{"-D"}, rule...)...) })
		return tn
	}
	t.Fatal("no free pstest bridge/subnet")
	return nil
}

func subnetInUse(t *testing.T, subnet *net.IPNet) bool {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if subnet.Contains(a.IP) {
			return true
		}
	}
	return false
}

// manager makes a Manager on the test's dirs; whatever pods the test leaves
// are torn down and unpinned at cleanup, before the bridge goes.
func (tn *testNet) manager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(Options{
		ConfDir:       tn.confDir,
		BinDirs:       tn.bins,
		StateDir:      tn.stateDir,
		DefaultSubnet: tn.subnet.String(),
		DefaultBridge: tn.bridge,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	return m
}

func cleanupManager(t *testing.T, m *Manager) {
	intents, err := m.Intents()
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, in := range intents {
		if err := m.Teardown(context.Background(), in.Pod, in.NetNS); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	pins, err := m.ListNetNS()
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
	for _, p := range pins {
		if err := m.RemoveNetNS(p); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func iptables(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("iptables", append([]string{"-w"}, args...)...).CombinedOutput()
	if err != nil {
		t.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// natRulesFor lists the nat table lines (chains, rules, comments) that name
// the pod: portmap and the bridge's ipMasq tag everything with its ID.
func natRulesFor(t *testing.T, podID string) []string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if strings.Contains(sc.Text(), podID) {
			lines = append(lines, sc.Text())
		}
	}
	return lines
}

// leases lists host-local's leases (files named by IP) in its network dir.
func leases(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if net.ParseIP(e.Name()) != nil {
			out = append(out, e.Name())
		}
	}
	return out
}

// inNetNS runs fn on a thread inside the namespace at path. Sockets fn
// creates stay in that namespace afterwards. The thread goes back to the
// pool only once it is back in its own namespace.
func inNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		ns, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("return to own netns (thread retired): %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// nsLink returns the named link inside the namespace, or nil if absent.
func nsLink(t *testing.T, nsPath, name string) (netlink.Link, []netlink.Addr) {
	t.Helper()
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil, nil
		}
		t.Fatal(err)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	return l, addrs
}

func isMounted(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

func freeHostPort(t *testing.T) int32 {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return int32(ln.Addr().(*net.TCPAddr).Port)
}
