// SPDX-License-Identifier: Apache-2.0

package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestNetNSPinAndRemove(t *testing.T) {
	requireRoot(t)
	m, err := New(Options{ConfDir: t.TempDir(), BinDirs: []string{t.TempDir()}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	hostIno := nsInode(t, "/proc/self/ns/net")

	id := randomPodID(t)
	path, err := m.NewNetNS(id)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(m.netnsDir, id) {
		t.Errorf("path = %s", path)
	}
	if !isNetNS(path) || !isMounted(t, path) {
		t.Fatalf("%s is not a mounted netns", path)
	}
	if nsInode(t, path) == hostIno {
		t.Fatalf("pinned netns is the host's")
	}
	threadsInHostNetNS(t, hostIno)

	// Exclusive: a second pin for the same pod fails and leaves the first.
	if _, err := m.NewNetNS(id); err == nil {
		t.Errorf("second NewNetNS for one pod succeeded")
	}
	if !isNetNS(path) {
		t.Fatalf("failed second NewNetNS broke the first pin")
	}

	// A second pod gets its own namespace.
	other, err := m.NewNetNS(randomPodID(t))
	if err != nil {
		t.Fatal(err)
	}
	if nsInode(t, other) == nsInode(t, path) {
		t.Errorf("two pods share a netns")
	}
	if pins, err := m.ListNetNS(); err != nil || len(pins) != 2 {
		t.Errorf("ListNetNS = %v, %v; want 2 pins", pins, err)
	}

	for i := 0; i < 2; i++ { // the second time finds nothing, and is fine
		if err := m.RemoveNetNS(path); err != nil {
			t.Fatalf("RemoveNetNS #%d: %v", i+1, err)
		}
		if isMounted(t, path) {
			t.Fatalf("%s still mounted", path)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("%s still there: %v", path, err)
		}
	}

	// A pin whose mount vanished (a reboot) is a plain file: removable.
	if err := unix.Unmount(other, unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	if isNetNS(other) {
		t.Errorf("unmounted pin still looks like a netns")
	}
	if err := m.RemoveNetNS(other); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{"", "../escape", "a/b", ".hidden"} {
		if _, err := m.NewNetNS(bad); err == nil {
			t.Errorf("NewNetNS(%q) accepted", bad)
		}
	}
	if err := m.RemoveNetNS("/proc/self/ns/net"); err == nil {
		t.Errorf("RemoveNetNS outside the state dir accepted")
	}
	if err := m.RemoveNetNS(""); err != nil {
		t.Errorf("RemoveNetNS(\"\") = %v", err)
	}
}

func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// threadsInHostNetNS checks that pinning left no thread of this process in
// the pod's namespace: the pinning thread must have exited. Its exit is
// asynchronous, so wait for it.
func threadsInHostNetNS(t *testing.T, hostIno uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var stray []string
		tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
		for _, task := range tasks {
			var st unix.Stat_t
			if unix.Stat(task, &st) == nil && st.Ino != hostIno {
				stray = append(stray, task)
			}
		}
		if len(stray) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads left in another netns: %s", strings.Join(stray, " "))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
