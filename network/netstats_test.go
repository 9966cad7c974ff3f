// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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

// Read through a process inside the pod's namespace, the counters are the
// namespace's; a process elsewhere (a pid reused) is not taken for it.
func TestNetNSStatsOfAProcessInside(t *testing.T) {
	requireRoot(t)
	m, err := New(Options{ConfDir: t.TempDir(), StateDir: t.TempDir(), DefaultSubnet: "10.199.250.0/24", DefaultBridge: "pstestns0"})
	if err != nil {
		t.Fatal(err)
	}
	id := randomPodID(t)
	ns, err := m.NewNetNS(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.RemoveNetNS(ns) })
	if err := loopbackUp(ns); err != nil {
		t.Fatal(err)
	}
	inside := exec.Command("nsenter", "--net="+ns, "sleep", "30")
	if err := inside.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inside.Process.Kill(); inside.Wait() })
	// Wait for nsenter to have entered and exec'd sleep.
	for i := 0; i < 100 && !sameFile(fmt.Sprintf("/proc/%d/ns/net", inside.Process.Pid), ns); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	want, err := NetNSStats(ns)
	if err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{inside.Process.Pid, os.Getpid(), 0} {
		got, err := NetNSStatsOf(pid, ns)
		if err != nil {
			t.Fatalf("pid %d: %v", pid, err)
		}
		if len(got) != len(want) || got[0].Name != want[0].Name {
			t.Errorf("pid %d: %+v, want the namespace's %+v", pid, got, want)
		}
	}
}
