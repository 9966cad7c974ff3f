// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// testPod pins a namespace for a new pod and returns both.
func testPod(t *testing.T, m *Manager, ports ...PortMapping) (Pod, string) {
	t.Helper()
	id := randomPodID(t)
	path, err := m.NewNetNS(id)
	if err != nil {
		t.Fatal(err)
	}
	return Pod{ID: id, Name: "pod-" + id[6:12], Namespace: "default", UID: "uid-" + id[6:12], PortMappings: ports}, path
}

// serveHello listens on port inside the namespace and greets every client
// with greeting.
func serveHello(t *testing.T, nsPath string, port int, greeting string) {
	t.Helper()
	var ln net.Listener
	if err := inNetNS(nsPath, func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		t.Fatalf("listen in pod: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, greeting+"\n")
			c.Close()
		}
	}()
}

// readGreeting dials addr (from inside nsPath when it is not empty).
func readGreeting(nsPath, addr string) (string, error) {
	var c net.Conn
	dial := func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 10*time.Second)
		return err
	}
	var err error
	if nsPath == "" {
		err = dial()
	} else {
		err = inNetNS(nsPath, dial)
	}
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return line, err
}

func TestSetupCheckTeardown(t *testing.T) {
	tn := newTestNet(t)
	m := tn.manager(t)
	ctx := context.Background()
	leaseDir := filepath.Join(m.ipamDir, DefaultNetworkName)

	hostPort := freeHostPort(t)
	podA, nsA := testPod(t, m, PortMapping{Protocol: "TCP", ContainerPort: 8080, HostPort: hostPort},
		PortMapping{Protocol: "tcp", ContainerPort: 9090}) // no hostPort: not mapped
	podB, nsB := testPod(t, m)

	resA, err := m.Setup(ctx, podA, nsA)
	if err != nil {
		t.Fatalf("Setup A: %v", err)
	}
	resB, err := m.Setup(ctx, podB, nsB)
	if err != nil {
		t.Fatalf("Setup B: %v", err)
	}
	for _, r := range []Result{resA, resB} {
		if r.Interface != "eth0" || len(r.IPs) != 1 || !tn.subnet.Contains(r.IPs[0]) {
			t.Fatalf("result %+v, want one IP in %s", r, tn.subnet)
		}
	}
	ipA, ipB := resA.IPs[0], resB.IPs[0]

	// Inside the pod: eth0 has the IP, lo is up.
	eth0, addrs := nsLink(t, nsA, "eth0")
	if eth0 == nil || !hasAddr(addrs, ipA) {
		t.Fatalf("eth0 in pod A: %v %v, want %s", eth0, addrs, ipA)
	}
	lo, _ := nsLink(t, nsA, "lo")
	if lo == nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Fatalf("lo in pod A not up: %v", lo)
	}
	if got := leases(t, leaseDir); len(got) != 2 {
		t.Fatalf("leases = %v, want A's and B's", got)
	}
	in, ok, err := m.LookupIntent(podA.ID)
	if err != nil || !ok || in.State != IntentReady || in.Result == nil || !in.Result.IPs[0].Equal(ipA) || in.Network != DefaultNetworkName {
		t.Fatalf("intent of A = %+v, %v, %v", in, ok, err)
	}
	if err := m.Check(ctx, podA, nsA); err != nil {
		t.Errorf("Check A: %v", err)
	}
	if _, err := m.Setup(ctx, podA, nsA); err == nil {
		t.Errorf("second Setup of A succeeded")
	}

	// Pod to pod over the bridge.
	serveHello(t, nsA, 8080, "hello from A")
	if got, err := readGreeting(nsB, net.JoinHostPort(ipA.String(), "8080")); err != nil || got != "hello from A\n" {
		t.Fatalf("B -> A: %q, %v", got, err)
	}
	// Host to pod through the hostPort, on the bridge's gateway address and
	// on 127.0.0.1 (portmap's snat sets route_localnet on the bridge).
	for _, host := range []string{tn.gateway.String(), "127.0.0.1"} {
		addr := net.JoinHostPort(host, fmt.Sprint(hostPort))
		if got, err := readGreeting("", addr); err != nil || got != "hello from A\n" {
			t.Errorf("host -> %s: %q, %v", addr, got, err)
		}
	}
	if len(natRulesFor(t, podA.ID)) == 0 {
		t.Fatalf("no nat rules for pod A")
	}

	// Teardown frees A's lease and its portmap and masquerade rules; twice
	// is fine.
	for i := 0; i < 2; i++ {
		if err := m.Teardown(ctx, podA, nsA); err != nil {
			t.Fatalf("Teardown A #%d: %v", i+1, err)
		}
	}
	if got := leases(t, leaseDir); len(got) != 1 || got[0] != ipB.String() {
		t.Errorf("leases after teardown of A = %v, want only %s", got, ipB)
	}
	if rules := natRulesFor(t, podA.ID); len(rules) != 0 {
		t.Errorf("nat rules left for A: %v", rules)
	}
	if l, _ := nsLink(t, nsA, "eth0"); l != nil {
		t.Errorf("eth0 left in pod A")
	}
	if _, ok, _ := m.LookupIntent(podA.ID); ok {
		t.Errorf("intent of A left")
	}
	if err := m.Check(ctx, podA, nsA); err == nil {
		t.Errorf("Check of a torn-down pod passed")
	}

	// CHECK notices a broken pod network.
	if l, _ := nsLink(t, nsB, "eth0"); l != nil {
		deleteLinkIn(t, nsB, l)
	}
	if err := m.Check(ctx, podB, nsB); err == nil {
		t.Errorf("Check passed with eth0 gone")
	}

	// The namespace goes first (the sandbox was removed, or lost in a
	// crash): teardown still frees the IP and the NAT rules.
	if err := m.RemoveNetNS(nsB); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown(ctx, podB, nsB); err != nil {
		t.Fatalf("Teardown B without netns: %v", err)
	}
	if got := leases(t, leaseDir); len(got) != 0 {
		t.Errorf("leases after teardown of B = %v", got)
	}
	if rules := natRulesFor(t, podB.ID); len(rules) != 0 {
		t.Errorf("nat rules left for B: %v", rules)
	}
	if err := m.Teardown(ctx, podB, ""); err != nil {
		t.Errorf("second Teardown B: %v", err)
	}
}

func TestSetPodCIDRAppliesToNewPods(t *testing.T) {
	tn := newTestNet(t)
	m, err := New(Options{
		ConfDir:       tn.confDir,
		BinDirs:       tn.bins,
		StateDir:      tn.stateDir,
		DefaultSubnet: "10.89.0.0/16", // replaced below, never used
		DefaultBridge: tn.bridge,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	if err := m.SetPodCIDR(tn.subnet.String()); err != nil {
		t.Fatal(err)
	}
	pod, ns := testPod(t, m)
	res, err := m.Setup(context.Background(), pod, ns)
	if err != nil {
		t.Fatal(err)
	}
	if !tn.subnet.Contains(res.IPs[0]) {
		t.Errorf("IP %s not in the new pod CIDR %s", res.IPs[0], tn.subnet)
	}
	if err := m.Teardown(context.Background(), pod, ns); err != nil {
		t.Fatal(err)
	}
}

func hasAddr(addrs []netlink.Addr, ip net.IP) bool {
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func deleteLinkIn(t *testing.T, nsPath string, l netlink.Link) {
	t.Helper()
	if err := inNetNS(nsPath, func() error { return netlink.LinkDel(l) }); err != nil {
		t.Fatal(err)
	}
}
