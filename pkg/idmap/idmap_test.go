// SPDX-License-Identifier: Apache-2.0

package idmap

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("idmapped mounts need root")
	}
}

// A user-namespaced pod's rootfs: an overlay of idmapped layers, written
// through, with nothing left of the layers' own mounts.
func TestProbeOverlay(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	if err := ProbeOverlay(dir, []string{"cat"}); err != nil {
		t.Fatalf("idmapped overlay on %s: %v", dir, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Fatalf("probe left %d entries in %s", len(left), dir)
	}
}

func TestLayersShowRootFilesAsTheNamespacesRoot(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	layer := filepath.Join(dir, "layer")
	if err := os.MkdirAll(filepath.Join(layer, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	ns, err := Hold([]string{"cat"}, 200000, 65536)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	paths, release, err := Layers([]string{layer}, ns.Fd, filepath.Join(dir, "l"))
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(paths[0], "etc"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 200000 || st.Gid != 200000 {
		t.Errorf("root's etc seen as %d:%d through the mapping, want 200000:200000", st.Uid, st.Gid)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "l")); !os.IsNotExist(err) {
		t.Errorf("release left %s: %v", filepath.Join(dir, "l"), err)
	}
}

func TestLayersRefuseAMissingDirAndLeaveNothing(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	ns, err := Hold([]string{"cat"}, 200000, 65536)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if _, _, err := Layers([]string{dir, filepath.Join(dir, "missing")}, ns.Fd, filepath.Join(dir, "l")); err == nil {
		t.Fatal("idmapped a missing layer")
	}
	if _, err := os.Stat(filepath.Join(dir, "l")); !os.IsNotExist(err) {
		t.Errorf("a failed Layers left %s", filepath.Join(dir, "l"))
	}
}
