// SPDX-License-Identifier: Apache-2.0

package images

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (chroot, chown)")
	}
}

// TestBusyboxRuns unpacks the busybox image and runs its shell in a chroot:
// the dynamic loader, libc and the applet symlinks must all be in place.
func TestBusyboxRuns(t *testing.T) {
	requireRoot(t)
	img, err := Busybox()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	extract(t, img, root)

	run := func(script string) string {
		t.Helper()
		out, err := exec.Command("chroot", root, "/bin/sh", "-c", script).CombinedOutput()
		if err != nil {
			t.Fatalf("chroot sh -c %q: %v\n%s", script, err, out)
		}
		return string(out)
	}
	out := run("echo hi; ls /")
	if !strings.HasPrefix(out, "hi\n") || !strings.Contains(out, "bin") || !strings.Contains(out, "etc") {
		t.Errorf("unexpected output:\n%s", out)
	}
	// glibc's passwd lookups read the image's /etc files.
	if out := run("id -nu; id -u www-data"); out != "root\n33\n" {
		t.Errorf("id: %q", out)
	}
	// Applets run as separate processes, through their symlinks.
	if out := run("/usr/bin/env sh -c 'echo $0'"); out != "sh\n" {
		t.Errorf("env sh: %q", out)
	}
	if out := run("command -v pgrep; command -v ipcs"); out != "/usr/bin/pgrep\n/usr/bin/ipcs\n" {
		t.Errorf("pgrep/ipcs: %q", out)
	}
	if out := run("stat -c %a /tmp"); out != "1777\n" {
		t.Errorf("/tmp mode %q", out)
	}
}

// TestBusyboxZstdHasSameContent: the zstd variant carries the same tarball.
func TestBusyboxZstdHasSameContent(t *testing.T) {
	gz, err := Busybox()
	if err != nil {
		t.Fatal(err)
	}
	zs, err := BusyboxZstd()
	if err != nil {
		t.Fatal(err)
	}
	gzLayers, _ := gz.Layers()
	zsLayers, _ := zs.Layers()
	gzDiff, _ := gzLayers[0].DiffID()
	zsDiff, _ := zsLayers[0].DiffID()
	gzDigest, _ := gzLayers[0].Digest()
	zsDigest, _ := zsLayers[0].Digest()
	if gzDiff != zsDiff || gzDigest == zsDigest {
		t.Errorf("diffIDs %s/%s (want equal), digests %s/%s (want different)", gzDiff, zsDiff, gzDigest, zsDigest)
	}
	mt, _ := zsLayers[0].MediaType()
	if mt != "application/vnd.oci.image.layer.v1.tar+zstd" {
		t.Errorf("zstd layer media type %s", mt)
	}
	files := flatten(t, zs)
	if _, ok := files["bin/busybox"]; !ok {
		t.Error("zstd image lacks bin/busybox")
	}
}
