// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// nodeRefs are the images the [NodeConformance] specs of test/e2e_node
// v1.37.2 name through test/utils/image (plus busybox 1.36.1-1, which
// e2e_node names literally).
var nodeRefs = []string{
	"registry.k8s.io/e2e-test-images/busybox:1.37.0-2",
	"registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
	"registry.k8s.io/e2e-test-images/agnhost:2.66.1",
	"registry.k8s.io/e2e-test-images/agnhost:2.55",
	"registry.k8s.io/e2e-test-images/nginx:1.27.0-2",
	"registry.k8s.io/e2e-test-images/nginx:1.28.0-2",
	"registry.k8s.io/e2e-test-images/nonewprivs:1.4",
	"registry.k8s.io/e2e-test-images/nonroot:1.5",
	"registry.k8s.io/e2e-test-images/ipc-utils:1.4",
	"registry.k8s.io/e2e-test-images/glibc-dns-testing:2.1.1",
	"registry.k8s.io/pause:3.10.2",
}

// fakeKubeBin writes placeholder agnhost and nnp programs: the set only
// copies their bytes.
func fakeKubeBin(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range NodeKubePrograms {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\necho "+n+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustNodeSet(t *testing.T) []Entry {
	t.Helper()
	set, err := NodeSet(fakeKubeBin(t))
	if err != nil {
		t.Fatalf("NodeSet: %v", err)
	}
	return set
}

// nodeImage is repo:tag of the set, the host platform's image of an index.
func nodeImage(t *testing.T, set []Entry, repo, tag string) v1.Image {
	t.Helper()
	e := mustEntry(t, set, repo, tag)
	if e.Index != nil {
		return hostImage(t, e)
	}
	return e.Image
}

func TestNodeSetHasEveryNodeImage(t *testing.T) {
	set := mustNodeSet(t)
	for _, ref := range nodeRefs {
		repo, tag := mirrored(ref)
		if _, ok := entryByRef(set, repo, tag); !ok {
			t.Errorf("%s (served as %s:%s) is missing", ref, repo, tag)
		}
	}
	// The two sets are served by one registry: no repo:tag twice.
	seen := map[string]bool{}
	for _, e := range append(mustSet(t), set...) {
		for _, tag := range e.Tags {
			if ref := e.Repo + ":" + tag; seen[ref] {
				t.Errorf("%s is in both sets", ref)
			} else {
				seen[ref] = true
			}
		}
	}
}

func TestNodeSetNeedsKubePrograms(t *testing.T) {
	if _, err := NodeSet(t.TempDir()); err == nil || !strings.Contains(err.Error(), "build.sh") {
		t.Fatalf("NodeSet of an empty dir: %v, want an error naming build.sh", err)
	}
}

func TestAgnhostImage(t *testing.T) {
	set := mustNodeSet(t)
	img := nodeImage(t, set, "e2e-test-images/agnhost", "2.66.1")
	cfg := mustConfig(t, img).Config
	if strings.Join(cfg.Entrypoint, " ") != "/agnhost" || strings.Join(cfg.Cmd, " ") != "pause" {
		t.Errorf("agnhost Entrypoint %q Cmd %q, want /agnhost pause", cfg.Entrypoint, cfg.Cmd)
	}
	files := flatten(t, img)
	if got := string(files["agnhost"].data); got != "#!/bin/sh\necho agnhost\n" {
		t.Errorf("/agnhost is %q, not the program given", got)
	}
	if l := files["agnhost-2"].hdr; l == nil || l.Typeflag != tar.TypeSymlink || l.Linkname != "agnhost" {
		t.Errorf("/agnhost-2 must link to agnhost: %+v", l)
	}
	if nc := files["usr/bin/nc"].hdr; nc == nil || nc.Typeflag != tar.TypeReg {
		t.Errorf("agnhost /usr/bin/nc must be OpenBSD's netcat, a file of its own: %+v", nc)
	}
	for _, p := range []string{"bin/bash", "usr/bin/curl", "bin/sh", "uploads", "localhost.crt", "localhost.key"} {
		if _, ok := files[p]; !ok {
			t.Errorf("agnhost image lacks /%s", p)
		}
	}
	if !strings.Contains(string(files["etc/group"].data), "group-defined-in-image:x:50000:user-defined-in-image\n") {
		t.Errorf("agnhost /etc/group:\n%s", files["etc/group"].data)
	}
}

func TestNodeStandinImages(t *testing.T) {
	set := mustNodeSet(t)
	nnpImg := nodeImage(t, set, "e2e-test-images/nonewprivs", "1.4")
	if cmd := mustConfig(t, nnpImg).Config.Cmd; strings.Join(cmd, " ") != "nnp" {
		t.Errorf("nonewprivs Cmd %q, want nnp", cmd)
	}
	nnp := flatten(t, nnpImg)["usr/local/bin/nnp"]
	if nnp.hdr == nil || nnp.hdr.Mode != 0o4755 || nnp.hdr.Uid != 0 || string(nnp.data) != "#!/bin/sh\necho nnp\n" {
		t.Errorf("nnp must be the given program, setuid root: %+v", nnp.hdr)
	}
	if u := mustConfig(t, nodeImage(t, set, "e2e-test-images/nonroot", "1.5")).Config.User; u != "1234" {
		t.Errorf("nonroot User %q, want 1234", u)
	}
	ipc := flatten(t, nodeImage(t, set, "e2e-test-images/ipc-utils", "1.4"))
	for _, p := range []string{"usr/bin/ipcs", "usr/bin/ipcmk"} {
		if f, ok := ipc[p]; !ok || f.hdr.Typeflag != tar.TypeReg {
			t.Errorf("ipc-utils /%s must be util-linux's program", p)
		}
	}
	if ep := mustConfig(t, nodeImage(t, set, "pause", "3.10.2")).Config.Entrypoint; strings.Join(ep, " ") != "/pause" {
		t.Errorf("pause:3.10.2 Entrypoint %q", ep)
	}
}

func TestNodeImagesShellIsBash(t *testing.T) {
	set := mustNodeSet(t)
	for _, ref := range []string{"e2e-test-images/busybox:1.37.0-2", "e2e-test-images/agnhost:2.66.1", "e2e-test-images/nonroot:1.5"} {
		repo, tag, _ := strings.Cut(ref, ":")
		files := flatten(t, nodeImage(t, set, repo, tag))
		if sh := files["bin/sh"].hdr; sh == nil || sh.Typeflag != tar.TypeSymlink || sh.Linkname != "bash" {
			t.Errorf("%s: /bin/sh must link to bash: %+v", ref, sh)
		}
		for _, p := range []string{"bin/bash", "bin/sysctl", "usr/bin/nmeter"} {
			if _, ok := files[p]; !ok {
				t.Errorf("%s lacks /%s", ref, p)
			}
		}
	}
}

// The container lifecycle specs build RFC 3339 times from
// `date -u +%FT$(nmeter -d0 '%3t' | head -n1)Z`.
func TestNmeterStandin(t *testing.T) {
	bin := installFromImage(t, "e2e-test-images/busybox", "1", "usr/bin/procutils", "nmeter")
	cmd := exec.Command("sh", "-c", "date -u +%FT$("+bin+" -d0 '%3t' | head -n1)Z")
	cmd.Env = append(os.Environ(), "TZ=UTC") // nmeter prints local time, as containers have it
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nmeter | head: %v", err)
	}
	ts := strings.TrimSpace(string(out))
	got, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil || time.Since(got) > time.Minute || time.Since(got) < -time.Minute {
		t.Fatalf("timestamp %q: %v", ts, err)
	}
	if !regexp.MustCompile(`T\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("timestamp %q lacks three digits of milliseconds", ts)
	}
}
