// SPDX-License-Identifier: Apache-2.0

package network

import (
	"context"
	"testing"

	"github.com/vishvananda/netlink"
)

// A bridge whose MAC was never pinned takes its ports' addresses; once its
// last port goes it has none (00:00:00:00:00:00). That is where a first ADD
// interrupted between attaching the veth and pinning the MAC (podshim
// killed, or IPAM failing) leaves it, and the bridge plugin then fails every
// later ADD with "could not set bridge's mac: invalid argument": the node
// can start no pod until someone deletes the bridge by hand.
func TestSetupOnABridgeThatLostItsMAC(t *testing.T) {
	tn := newTestNet(t)
	m := tn.manager(t)

	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "psmac" + tn.bridge[6:]}, PeerName: "psmacp" + tn.bridge[6:]}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	br, err := netlink.LinkByName(tn.bridge)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetMaster(veth, br); err != nil {
		t.Fatalf("attach veth: %v", err)
	}
	if err := netlink.LinkDel(veth); err != nil {
		t.Fatalf("delete veth: %v", err)
	}
	if br, _ = netlink.LinkByName(tn.bridge); !zeroMAC(br.Attrs().HardwareAddr) {
		t.Skipf("this kernel keeps a portless bridge's MAC (%s): nothing to recover from", br.Attrs().HardwareAddr)
	}

	pod, ns := testPod(t, m)
	if _, err := m.Setup(context.Background(), pod, ns); err != nil {
		t.Fatalf("Setup on a bridge with no MAC: %v", err)
	}
	br, _ = netlink.LinkByName(tn.bridge)
	mac := br.Attrs().HardwareAddr
	if zeroMAC(mac) {
		t.Fatalf("bridge MAC still %s after Setup", mac)
	}
	if err := m.Teardown(context.Background(), pod, ns); err != nil {
		t.Fatalf("Teardown: %v", err)
	}
	// Pinned: the last pod leaving no longer takes the bridge's MAC away.
	if br, _ = netlink.LinkByName(tn.bridge); br.Attrs().HardwareAddr.String() != mac.String() {
		t.Errorf("bridge MAC %s after the last pod left, want it kept at %s", br.Attrs().HardwareAddr, mac)
	}
}
