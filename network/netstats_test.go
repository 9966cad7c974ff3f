// SPDX-License-Identifier: Apache-2.0

package network

import (
	"strings"
	"testing"
)

const netDevSample = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
  eth0:   12345      10    3    4    0     0          0         0     6789       8    1    5    0     0       0          0
`

func TestParseNetDev(t *testing.T) {
	s, err := ParseNetDev(strings.NewReader(netDevSample))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 {
		t.Fatalf("got %d interfaces, want 2: %+v", len(s), s)
	}
	want := IfaceStats{Name: "eth0", RxBytes: 12345, RxPackets: 10, RxErrors: 3, RxDropped: 4, TxBytes: 6789, TxPackets: 8, TxErrors: 1, TxDropped: 5}
	if s[1] != want {
		t.Fatalf("eth0 = %+v, want %+v", s[1], want)
	}
}

func TestParseNetDevRejectsShortLine(t *testing.T) {
	bad := "h1\nh2\n  eth0: 1 2 3\n"
	if _, err := ParseNetDev(strings.NewReader(bad)); err == nil {
		t.Fatal("short line accepted")
	}
}

// The host's own namespace is a valid target: it must list loopback.
func TestNetNSStatsOwnNamespace(t *testing.T) {
	s, err := NetNSStats("/proc/self/ns/net")
	if err != nil {
		t.Skipf("setns not permitted here: %v", err)
	}
	for _, i := range s {
		if i.Name == "lo" {
			return
		}
	}
	t.Fatalf("no lo in %+v", s)
}

// The cost of one pod's network figures in ListPodSandboxStats.
func BenchmarkNetNSStats(b *testing.B) {
	for b.Loop() {
		if _, err := NetNSStats("/proc/self/ns/net"); err != nil {
			b.Fatal(err)
		}
	}
}
