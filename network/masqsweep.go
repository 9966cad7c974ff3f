// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/containernetworking/plugins/pkg/utils"
)

// sweepBridgeMasq removes a pod's masquerade jump rules and chain without
// knowing its addresses. The bridge plugin names the chain after the
// network and the container ID, so the jump rules are found by their
// target, whatever source address they match.
//
// Why: when ADD was cut short after the plugin set up masquerading but
// before libcni cached its result (a crash, a killed plugin), no one
// knows the pod's address any more, and DEL without eth0 in the netns
// leaves the rules for good. The sweep is idempotent.
func sweepBridgeMasq(network, containerID string) error {
	chain := utils.FormatChainName(network, containerID)
	var errs []error
	for _, tool := range []string{"iptables", "ip6tables"} {
		if err := sweepMasqWith(tool, chain); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func sweepMasqWith(tool, chain string) error {
	if _, err := exec.LookPath(tool + "-restore"); err != nil {
		return nil // no such family on this node: nothing was set up
	}
	out, err := exec.Command(tool+"-save", "-t", "nat").Output()
	if err != nil {
		return fmt.Errorf("%s-save: %w", tool, err)
	}
	var script []string
	chainExists := false
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case line == ":"+chain || strings.HasPrefix(line, ":"+chain+" "):
			chainExists = true
		case strings.HasPrefix(line, "-A POSTROUTING ") && strings.HasSuffix(line, " -j "+chain):
			// iptables-restore reads a rule exactly as iptables-save quoted it.
			script = append(script, "-D"+strings.TrimPrefix(line, "-A"))
		}
	}
	if chainExists {
		script = append(script, "-F "+chain, "-X "+chain)
	}
	if len(script) == 0 {
		return nil
	}
	in := "*nat\n" + strings.Join(script, "\n") + "\nCOMMIT\n"
	cmd := exec.Command(tool+"-restore", "-w", "--noflush")
	cmd.Stdin = bytes.NewBufferString(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s-restore: remove chain %s: %v: %s", tool, chain, err, bytes.TrimSpace(out))
	}
	return nil
}
