// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
)

// podIfaceHolds checks that the interface name inside the namespace at
// nsPath carries every one of ips, and says what is missing if not.
//
// Teardown asks it before DEL: a bridge plugin that finds the pod's
// addresses on its interface removes their masquerade rules itself, and
// running the same removal again after it costs a few iptables calls for
// nothing, a third of a pod's stop. CheckAddresses asks it for a pod's
// verbose status.
func podIfaceHolds(nsPath, name string, ips []net.IP) error {
	if len(ips) == 0 {
		return fmt.Errorf("no address known for %s", name)
	}
	h, err := netlinkIn(nsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s in netns %s: %w", name, nsPath, err)
	}
	if l.Attrs().OperState == netlink.OperDown {
		return fmt.Errorf("%s is down", name)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("addresses of %s: %w", name, err)
	}
	for _, ip := range ips {
		found := false
		for _, a := range addrs {
			if a.IP.Equal(ip) {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s lost its address %s", name, ip)
		}
	}
	return nil
}
