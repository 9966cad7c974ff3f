// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// IfaceStats are the counters of one pod network interface: what the
// kubelet's CRI stats provider reports, plus the packet and drop counts
// of the cAdvisor-named network metrics.
type IfaceStats struct {
	Name      string
	RxBytes   uint64
	RxPackets uint64
	RxErrors  uint64
	RxDropped uint64
	TxBytes   uint64
	TxPackets uint64
	TxErrors  uint64
	TxDropped uint64
}

// ParseNetDev reads the /proc/net/dev format: two header lines, then
// "iface: rx_bytes rx_packets rx_errs ... (8 rx fields) tx_bytes tx_packets tx_errs ...".
// The loopback interface is kept; callers decide what to report.
func ParseNetDev(r io.Reader) ([]IfaceStats, error) {
	var out []IfaceStats
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		if line < 2 {
			continue // column headers
		}
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			return nil, fmt.Errorf("net/dev line %d: no interface name: %q", line+1, sc.Text())
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			return nil, fmt.Errorf("net/dev line %d: %d fields, want 16", line+1, len(f))
		}
		var v [16]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("net/dev line %d field %d: %w", line+1, i+1, err)
			}
			v[i] = n
		}
		out = append(out, IfaceStats{Name: strings.TrimSpace(name),
			RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read net/dev: %w", err)
	}
	return out, nil
}

// NetNSStatsOf reads the counters of the network namespace pinned at
// nsPath through /proc/<pid>/net/dev of a process known to be in it (a
// pod's pause): no thread has to enter the namespace, which at hundreds of
// pods is most of a stats list. The process is taken only when its netns
// is the pinned one (same device and inode), so a pid reused since, or a
// pause gone, falls back to NetNSStats.
func NetNSStatsOf(pid int, nsPath string) ([]IfaceStats, error) {
	if pid > 0 && sameFile(fmt.Sprintf("/proc/%d/ns/net", pid), nsPath) {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/dev", pid))
		if err == nil {
			defer f.Close()
			// Checked again once open: the pid cannot have been reused
			// between the check and the open without failing it.
			if sameFile(fmt.Sprintf("/proc/%d/ns/net", pid), nsPath) {
				return ParseNetDev(f)
			}
		}
	}
	return NetNSStats(nsPath)
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// NetNSStats reads the interface counters inside the network namespace
// pinned at nsPath. It switches only a locked OS thread into the namespace
// and reads /proc/thread-self/net/dev (plain /proc/self/net would show the
// thread group leader's namespace, i.e. the host's).
func NetNSStats(nsPath string) ([]IfaceStats, error) {
	type result struct {
		s   []IfaceStats
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// If the switch back fails the thread stays locked and dies with
		// the goroutine, so no other goroutine ever runs in the pod netns.
		s, restored, err := netnsStatsLocked(nsPath)
		if restored {
			runtime.UnlockOSThread()
		}
		ch <- result{s, err}
	}()
	r := <-ch
	return r.s, r.err
}

func netnsStatsLocked(nsPath string) ([]IfaceStats, bool, error) {
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, true, fmt.Errorf("open own netns: %w", err)
	}
	defer orig.Close()
	target, err := os.Open(nsPath)
	if err != nil {
		return nil, true, fmt.Errorf("open pod netns %s: %w", nsPath, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, true, fmt.Errorf("enter pod netns %s: %w", nsPath, err)
	}
	f, err := os.Open("/proc/thread-self/net/dev")
	var s []IfaceStats
	if err == nil {
		s, err = ParseNetDev(f)
		f.Close()
	} else {
		err = fmt.Errorf("open net/dev in %s: %w", nsPath, err)
	}
	if serr := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); serr != nil {
		return nil, false, fmt.Errorf("leave pod netns %s: %w", nsPath, serr)
	}
	return s, true, err
}

// DefaultInterface is the interface CNI gives every pod: the one the
// kubelet reports as the pod's network.
const DefaultInterface = ifName
