// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// masqJump matches the bridge plugin's per-pod masquerade rule on the bench
// subnet: `-A POSTROUTING -s <pod ip>/32 ... id: "<pod id>" ... -j CNI-<hash>`.
var masqJump = regexp.MustCompile(`^-A POSTROUTING -s ` + regexp.QuoteMeta(subnetPrefix) + `\S+ .*id: \\"([0-9a-f]+)\\".* -j (CNI-[0-9a-f]+)$`)

// removeSubnetMasq deletes the bridge plugin's masquerade rules and chains
// left for pods on the bench subnet, and returns how many pods' worth it
// removed. A crashed or interrupted run (or a podshim that leaks them)
// leaves these behind; the bench lock makes any on this subnet ours. A
// chain is only removed when every rule in it names the same pod.
func removeSubnetMasq() (int, error) {
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		return 0, fmt.Errorf("iptables-save: %w", err)
	}
	lines := strings.Split(string(out), "\n")
	var script []string
	for _, l := range lines {
		m := masqJump.FindStringSubmatch(l)
		if m == nil || !chainOnlyNames(lines, m[2], m[1]) {
			continue
		}
		// iptables-restore reads the rule exactly as iptables-save quoted it.
		script = append(script, "-D"+strings.TrimPrefix(l, "-A"), "-F "+m[2], "-X "+m[2])
	}
	if len(script) == 0 {
		return 0, nil
	}
	in := "*nat\n" + strings.Join(script, "\n") + "\nCOMMIT\n"
	cmd := exec.Command("iptables-restore", "-w", "--noflush")
	cmd.Stdin = strings.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("iptables-restore: %v: %s", err, out)
	}
	return len(script) / 3, nil
}

// chainOnlyNames tells whether every rule of chain carries pod id's comment.
func chainOnlyNames(lines []string, chain, id string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, "-A "+chain+" ") && !strings.Contains(l, `id: \"`+id+`\"`) {
			return false
		}
	}
	return true
}
