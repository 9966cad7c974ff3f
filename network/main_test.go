// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain puts back the host-wide state the plugins change and never undo
// on DEL: the bridge plugin turns on net.ipv4.ip_forward, and portmap
// creates shared CNI-HOSTPORT-* chains hooked into the nat table.
func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		os.Exit(m.Run())
	}
	const forward = "/proc/sys/net/ipv4/ip_forward"
	fwd, _ := os.ReadFile(forward)
	hadChains := hostportChainsExist()

	code := m.Run()

	if strings.TrimSpace(string(fwd)) == "0" {
		if err := os.WriteFile(forward, []byte("0"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "restore ip_forward:", err)
		}
	}
	if !hadChains {
		if err := removeUnusedHostportChains(); err != nil {
			fmt.Fprintln(os.Stderr, "remove portmap chains:", err)
		}
	}
	os.Exit(code)
}

var hostportChains = []string{"CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-SETMARK", "CNI-HOSTPORT-MASQ"}

func natSave() string {
	out, _ := exec.Command("iptables-save", "-t", "nat").Output()
	return string(out)
}

func hostportChainsExist() bool {
	return strings.Contains(natSave(), ":CNI-HOSTPORT-")
}

// removeUnusedHostportChains deletes portmap's shared chains and their
// hooks, but only while no pod (of any runtime sharing the host) has a
// hostPort in them.
func removeUnusedHostportChains() error {
	save := natSave()
	var hooks [][]string
	for _, line := range strings.Split(save, "\n") {
		if strings.HasPrefix(line, "-A CNI-HOSTPORT-DNAT ") {
			return nil // in use
		}
		f := strings.Fields(line)
		if len(f) > 2 && f[0] == "-A" && !strings.HasPrefix(f[1], "CNI-HOSTPORT-") && strings.Contains(line, "-j CNI-HOSTPORT-") {
			hooks = append(hooks, f[1:])
		}
	}
	for _, h := range hooks {
		// iptables-save quotes comments; exec passes arguments unquoted.
		args := []string{"-w", "-t", "nat", "-D"}
		args = append(args, unquoteSave(h)...)
		if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("iptables %v: %v: %s", args, err, out)
		}
	}
	// Flush all before deleting any: they may jump to one another.
	for _, op := range []string{"-F", "-X"} {
		for _, c := range hostportChains {
			if !strings.Contains(save, ":"+c+" ") {
				continue
			}
			if out, err := exec.Command("iptables", "-w", "-t", "nat", op, c).CombinedOutput(); err != nil {
				return fmt.Errorf("iptables %s %s: %v: %s", op, c, err, out)
			}
		}
	}
	return nil
}

// unquoteSave joins the words of a "double quoted" iptables-save argument.
func unquoteSave(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if strings.HasPrefix(w, `"`) {
			for !strings.HasSuffix(w, `"`) || w == `"` {
				i++
				if i >= len(words) {
					break
				}
				w += " " + words[i]
			}
			w = strings.Trim(w, `"`)
		}
		out = append(out, w)
	}
	return out
}
