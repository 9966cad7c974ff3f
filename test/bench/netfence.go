// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// fenceRule drops everything the pod bridge would forward to any other
// interface: pods may reach each other and the host, never the outside.
// It names the bridge before podshim creates it, so the first pod is
// already fenced.
func fenceRule(bridge string) []string {
	return []string{"FORWARD", "-i", bridge, "!", "-o", bridge, "-j", "DROP"}
}

func addFence() error { return addFenceFor(bridgeName) }

func addFenceFor(bridge string) error {
	fenceRule := fenceRule(bridge)
	// -w: e2e or conformance runs may hold the xtables lock at the moment.
	out, err := exec.Command("iptables", append([]string{"-w", "-I"}, fenceRule...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables -I %s: %v: %s", strings.Join(fenceRule, " "), err, out)
	}
	return nil
}

// removeNetwork deletes the fence rule (every copy: a crashed run may
// have left one) and the bridge. Both may be absent.
func removeNetwork() error { return removeNetworkFor(bridgeName) }

func removeNetworkFor(bridgeName string) error {
	fenceRule := fenceRule(bridgeName)
	var firstErr error
	for i := 0; i < 10; i++ {
		if exec.Command("iptables", append([]string{"-w", "-D"}, fenceRule...)...).Run() != nil {
			break
		}
	}
	if exec.Command("ip", "link", "show", bridgeName).Run() == nil {
		if out, err := exec.Command("ip", "link", "del", bridgeName).CombinedOutput(); err != nil {
			firstErr = fmt.Errorf("ip link del %s: %v: %s", bridgeName, err, out)
		}
	}
	return firstErr
}
