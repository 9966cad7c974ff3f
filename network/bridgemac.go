// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/vishvananda/netlink"
	"k8s.io/klog/v2"
)

// addrAssignSet is the kernel's NET_ADDR_SET: the address was set by hand
// and no longer follows the bridge's ports.
const addrAssignSet = "3"

// pinBridgeMACs gives every bridge of a bridge-plugin network a fixed MAC
// before ADD, where it has none yet.
//
// Why: the bridge plugin pins a bridge's MAC only at the end of its first
// ADD, after the veth is attached and IPAM has run, and it pins the address
// it read before attaching. Until then the bridge's MAC follows its ports,
// and with no port left it is all zeros. An ADD interrupted in between
// (podshim killed, or IPAM refusing) followed by its undo leaves exactly
// that, and from then on every ADD reads the zero MAC, fails to set it
// ("could not set bridge's mac: invalid argument") and the node starts no
// pod again. The fault-injection run found it. Pinning the address the
// bridge has (a random one where it has none) is what the plugin itself
// does on every ADD, done first.
func pinBridgeMACs(list *libcni.NetworkConfigList) error {
	for _, p := range list.Plugins {
		if p.Network.Type != "bridge" {
			continue
		}
		var conf struct {
			Bridge string `json:"bridge"`
		}
		if err := json.Unmarshal(p.Bytes, &conf); err != nil {
			continue // the plugin reports its own configuration errors
		}
		name := conf.Bridge
		if name == "" {
			name = "cni0" // the plugin's default
		}
		if err := pinBridgeMAC(name); err != nil {
			return fmt.Errorf("pin MAC of bridge %s of network %q: %w", name, list.Name, err)
		}
	}
	return nil
}

func pinBridgeMAC(name string) error {
	l, err := netlink.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil // the plugin creates it, with a random MAC
	}
	if err != nil {
		return err
	}
	if _, ok := l.(*netlink.Bridge); !ok {
		return nil // not ours to touch; the plugin refuses a non-bridge
	}
	// The bridge sits in podshim's own network namespace, the one /sys shows.
	assign, err := os.ReadFile(filepath.Join("/sys/class/net", name, "addr_assign_type"))
	if err == nil && strings.TrimSpace(string(assign)) == addrAssignSet {
		return nil
	}
	mac := l.Attrs().HardwareAddr
	if !zeroMAC(mac) {
		if err != nil {
			return nil // cannot tell whether it is pinned; it has an address
		}
	} else {
		if mac, err = randomLocalMAC(); err != nil {
			return err
		}
		klog.InfoS("Bridge had no MAC address (an earlier ADD was interrupted); giving it one", "bridge", name, "mac", mac.String())
	}
	if err := netlink.LinkSetHardwareAddr(l, mac); err != nil {
		return fmt.Errorf("set %s: %w", mac, err)
	}
	return nil
}

func zeroMAC(mac net.HardwareAddr) bool {
	return len(mac) == 0 || bytes.Equal(mac, make(net.HardwareAddr, len(mac)))
}

// randomLocalMAC is a random unicast, locally administered Ethernet address.
func randomLocalMAC() (net.HardwareAddr, error) {
	mac := make(net.HardwareAddr, 6)
	if _, err := rand.Read(mac); err != nil {
		return nil, err
	}
	mac[0] = mac[0]&^0x01 | 0x02
	return mac, nil
}
