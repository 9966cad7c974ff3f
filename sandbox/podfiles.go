// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// resolvConf renders a pod's /etc/resolv.conf. With no DNSConfig the pod gets
// the node's own file, as containerd and CRI-O do.
func resolvConf(dns *runtimeapi.DNSConfig, hostResolv string) ([]byte, error) {
	if dns == nil {
		data, err := os.ReadFile(hostResolv)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", hostResolv, err)
		}
		return data, nil
	}
	var b strings.Builder
	if len(dns.Searches) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.Searches, " "))
	}
	for _, s := range dns.Servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(dns.Options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.Options, " "))
	}
	return []byte(b.String()), nil
}

// hostsFile renders a pod's /etc/hosts: loopback names, then the pod's own
// name on each of its IPs, so `hostname -i` and lookups of the pod's own
// name work before any DNS.
func hostsFile(hostname string, ips []string) []byte {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	for _, ip := range ips {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return []byte(b.String())
}

// checkPodFiles refuses a hostname or DNS config that would write more than
// the kubelet meant into the pod's /etc/hostname, /etc/hosts or
// /etc/resolv.conf: a newline or NUL in any of them would add lines of the
// sender's choosing.
func checkPodFiles(hostname string, dns *runtimeapi.DNSConfig) error {
	if len(hostname) > 64 {
		return fmt.Errorf("hostname %q is longer than the kernel's 64 bytes", hostname)
	}
	if i := strings.IndexFunc(hostname, unsafeInPodFile); i >= 0 {
		return fmt.Errorf("hostname %q: character %q not allowed", hostname, hostname[i])
	}
	for _, s := range dns.GetServers() {
		if _, err := netip.ParseAddr(s); err != nil {
			return fmt.Errorf("DNS server %q is not an IP address", s)
		}
	}
	for _, list := range []struct {
		what  string
		items []string
	}{{"DNS search", dns.GetSearches()}, {"DNS option", dns.GetOptions()}} {
		for _, v := range list.items {
			if v == "" || strings.IndexFunc(v, unsafeInPodFile) >= 0 {
				return fmt.Errorf("%s %q: empty, or holds a space, a control character or a NUL", list.what, v)
			}
		}
	}
	return nil
}

// unsafeInPodFile is true of whitespace, control characters and NUL.
func unsafeInPodFile(r rune) bool { return r <= ' ' || r == 0x7f }
