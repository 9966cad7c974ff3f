// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// loopbackUp brings lo up inside the namespace at nsPath. This is all the
// CNI loopback plugin does; doing it over netlink directly needs no plugin
// binary and no DEL (lo disappears with the namespace).
func loopbackUp(nsPath string) error {
	h, err := netlinkIn(nsPath)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo in netns %s: %w", nsPath, err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up in netns %s: %w", nsPath, err)
	}
	return nil
}

// netlinkIn opens a netlink socket in the namespace pinned at nsPath: no
// thread of ours has to enter it. The caller closes the handle.
func netlinkIn(nsPath string) (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return nil, fmt.Errorf("open netns %s: %w", nsPath, err)
	}
	defer ns.Close() // the socket keeps the namespace
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in netns %s: %w", nsPath, err)
	}
	return h, nil
}
