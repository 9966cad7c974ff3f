// SPDX-License-Identifier: Apache-2.0

package network

import (
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ip"
	"github.com/containernetworking/plugins/pkg/utils"
)

// An ADD cut short after the bridge plugin set up masquerading, before
// anyone learnt the pod's address, must not leave the NAT rules behind:
// teardown with no known address finds them by their chain.
func TestMasqueradeOfAPodWithNoKnownAddressIsRemoved(t *testing.T) {
	requireRoot(t)
	if _, err := exec.LookPath("iptables-save"); err != nil {
		t.Skip("iptables not installed (make deps installs it)")
	}
	const network, id = "podshim-masq-test", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	list, err := libcni.ConfListFromBytes([]byte(`{"cniVersion":"1.0.0","name":"` + network + `",
		"plugins":[{"type":"bridge","bridge":"psmasq0","ipMasq":true,"ipam":{"type":"host-local"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	// TEST-NET-1: never a real pod's address.
	addr := &net.IPNet{IP: net.ParseIP("192.0.2.77").To4(), Mask: net.CIDRMask(32, 32)}
	if err := ip.SetupIPMasqForNetworks(nil, []*net.IPNet{addr}, network, ifName, id); err != nil {
		t.Fatalf("set up masquerade as the bridge plugin does: %v", err)
	}
	chain := utils.FormatChainName(network, id)
	t.Cleanup(func() { _ = ip.TeardownIPMasqForNetworks([]*net.IPNet{addr}, network, ifName, id) })
	if !strings.Contains(natRules(t), chain) {
		t.Fatalf("chain %s not set up", chain)
	}

	if err := cleanupBridgeMasq(list, id, nil); err != nil {
		t.Fatal(err)
	}
	if rules := natRules(t); strings.Contains(rules, chain) {
		t.Fatalf("chain %s or a jump to it left behind:\n%s", chain, rules)
	}
	// Idempotent: nothing left to remove is no error.
	if err := cleanupBridgeMasq(list, id, nil); err != nil {
		t.Fatalf("second cleanup: %v", err)
	}
}

func natRules(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Fatalf("iptables-save: %v", err)
	}
	return string(out)
}
