// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestSubmountReadOnly(t *testing.T) {
	const info = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 8:1 /tmp/src /probe ro,relatime - ext4 /dev/sda1 rw
31 30 8:1 /tmp/src/sub /probe/sub rw,relatime - ext4 /dev/sda1 rw
32 30 8:1 /tmp/src/sub /probe/sub ro,relatime - ext4 /dev/sda1 rw
33 22 8:1 /x /with\040space ro - ext4 /dev/sda1 rw
`
	for _, tc := range []struct {
		target string
		ro     bool
		err    bool
	}{
		{"/probe/sub", true, false}, // the last mount at the point counts
		{"/probe", true, false},
		{"/", false, false},
		{"/with space", true, false},
		{"/missing", false, true},
	} {
		ro, err := submountReadOnly(strings.NewReader(info), tc.target)
		if ro != tc.ro || (err != nil) != tc.err {
			t.Errorf("%s: ro=%v err=%v, want ro=%v err=%v", tc.target, ro, err, tc.ro, tc.err)
		}
	}
}

// The trial finds rro where the runtime applies it: runc, which says so
// in `features` too, and crun 1.8 (through podshim's hybrid-cgroup
// wrapper), which cannot say so. Needs root and the built binaries.
func TestProbeRecursiveReadOnlyByTrial(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the probe creates a container")
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(filepath.Dir(file), "..", "..", "bin")
	pause := filepath.Join(bin, "pause")
	if _, err := os.Stat(pause); err != nil {
		t.Skipf("no %s: run make build tools first", pause)
	}
	binaries := []string{filepath.Join(bin, "runc")}
	if _, err := os.Stat("/usr/bin/crun"); err == nil {
		binaries = append(binaries, filepath.Join(bin, "crun-hybrid"))
	}
	// The probe makes its directory in $TMPDIR: a private one, so a
	// daemon probing on this machine meanwhile is not taken for a leak.
	t.Setenv("TMPDIR", t.TempDir())
	for _, b := range binaries {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("%s: %v (make tools builds it)", b, err)
		}
		ok, err := ProbeRecursiveReadOnly(context.Background(), b, pause)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !ok {
			t.Errorf("%s: rro not found applied on a kernel with mount_setattr", filepath.Base(b))
		}
		// Nothing of the probe is left: no container in a state root of
		// its own (removed with its directory), no probe directory.
		left, _ := filepath.Glob(filepath.Join(os.TempDir(), "podshim-rro-probe-*"))
		if len(left) != 0 {
			t.Errorf("%s: probe left %v", b, left)
		}
	}
}

// A runtime that takes "rro" for mount data and ignores it (here: the
// trial run with "ro" alone, which is what such a runtime does) is not
// credited with rro.
func TestSubmountOfPlainReadOnlyBindIsWritable(t *testing.T) {
	const info = `30 22 8:1 /tmp/src /probe ro,relatime - ext4 /dev/sda1 rw
31 30 8:1 /tmp/src/sub /probe/sub rw,relatime - ext4 /dev/sda1 rw
`
	if ro, err := submountReadOnly(strings.NewReader(info), "/probe/sub"); err != nil || ro {
		t.Fatalf("ro=%v err=%v, want a writable submount", ro, err)
	}
}
