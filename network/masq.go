// SPDX-License-Identifier: Apache-2.0

package network

import (
	"encoding/json"
	"fmt"
	"net"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/ip"
)

// cleanupBridgeMasq removes the masquerade rules of bridge plugins with
// ipMasq for a pod, after CNI DEL.
//
// Why: the bridge plugin learns the pod's addresses for its DEL from eth0
// inside the namespace. Without a namespace, or without eth0 in it, it
// frees the IP lease but leaves the pod's NAT chain behind, for good. We know the addresses
// (intent or libcni cache), so we finish the job with the same library
// code the plugin uses, which is idempotent.
//
// Where no address is known, the rules are found by their chain's name
// instead (sweepBridgeMasq).
func cleanupBridgeMasq(list *libcni.NetworkConfigList, containerID string, ips []net.IP) error {
	var ipns []*net.IPNet
	for _, a := range ips {
		bits := 32
		if a.To4() == nil {
			bits = 128
		}
		ipns = append(ipns, &net.IPNet{IP: a, Mask: net.CIDRMask(bits, bits)})
	}
	for _, p := range list.Plugins {
		if p.Network.Type != "bridge" {
			continue
		}
		var conf struct {
			IPMasq bool `json:"ipMasq"`
		}
		if err := json.Unmarshal(p.Bytes, &conf); err != nil || !conf.IPMasq {
			continue
		}
		if len(ipns) == 0 {
			if err := sweepBridgeMasq(list.Name, containerID); err != nil {
				return fmt.Errorf("remove masquerade rules of network %q: %w", list.Name, err)
			}
			continue
		}
		if err := ip.TeardownIPMasqForNetworks(ipns, list.Name, ifName, containerID); err != nil {
			return fmt.Errorf("remove masquerade rules of network %q: %w", list.Name, err)
		}
	}
	return nil
}
