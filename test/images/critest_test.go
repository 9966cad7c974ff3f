// SPDX-License-Identifier: Apache-2.0

package images

import (
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// critestRefs are the image references critest v1.37.0 uses (pkg/validate,
// pkg/benchmark, pkg/framework), minus the unreproducible
// test-image-digest@sha256 one.
var critestRefs = []string{
	"registry.k8s.io/e2e-test-images/busybox:1.29-2",
	"registry.k8s.io/e2e-test-images/nginx:1.14-2",
	"registry.k8s.io/e2e-test-images/httpd:2.4.39-4",
	"registry.k8s.io/e2e-test-images/nonewprivs:1.3",
	"gcr.io/k8s-staging-cri-tools/hostnet-nginx-" + runtime.GOARCH,
	"gcr.io/k8s-staging-cri-tools/test-image-user-uid",
	"gcr.io/k8s-staging-cri-tools/test-image-user-username",
	"gcr.io/k8s-staging-cri-tools/test-image-user-uid-group",
	"gcr.io/k8s-staging-cri-tools/test-image-user-username-group",
	"gcr.io/k8s-staging-cri-tools/test-image-predefined-group",
	"gcr.io/k8s-staging-cri-tools/test-image-latest",
	"gcr.io/k8s-staging-cri-tools/test-image-tag:test",
	"gcr.io/k8s-staging-cri-tools/test-image-tag:all",
	"gcr.io/k8s-staging-cri-tools/test-image-1:latest",
	"gcr.io/k8s-staging-cri-tools/test-image-2:latest",
	"gcr.io/k8s-staging-cri-tools/test-image-3:latest",
	"gcr.io/k8s-staging-cri-tools/test-image-tags:1",
	"gcr.io/k8s-staging-cri-tools/test-image-tags:2",
	"gcr.io/k8s-staging-cri-tools/test-image-tags:3",
	"registry.k8s.io/pause:3.9",
	"k8s.gcr.io/pause:3.9",
	"public.ecr.aws/docker/library/busybox:1.35.0-glibc",
	"public.ecr.aws/docker/library/busybox:1-uclibc",
	"public.ecr.aws/docker/library/busybox:1",
	"public.ecr.aws/docker/library/busybox:1-glibc",
	"public.ecr.aws/docker/library/busybox:1-musl",
}

// mirrored is where the loopback registry serves ref: host dropped, tag
// defaulted to latest.
func mirrored(ref string) (repo, tag string) {
	_, path, _ := strings.Cut(ref, "/")
	repo, tag = path, "latest"
	if i := strings.LastIndexByte(path, ':'); i > strings.LastIndexByte(path, '/') {
		repo, tag = path[:i], path[i+1:]
	}
	return repo, tag
}

func TestCRITestSetHasEveryCritestImage(t *testing.T) {
	set := mustSet(t)
	for _, ref := range critestRefs {
		repo, tag := mirrored(ref)
		e, ok := entryByRef(set, repo, tag)
		if !ok {
			t.Errorf("%s (served as %s:%s) is missing", ref, repo, tag)
			continue
		}
		if (e.Image == nil) == (e.Index == nil) {
			t.Errorf("%s: want exactly one of Image and Index", ref)
		}
	}
	// No repo:tag may be claimed twice.
	seen := map[string]bool{}
	for _, e := range set {
		for _, tag := range e.Tags {
			if seen[e.Repo+":"+tag] {
				t.Errorf("%s:%s appears twice", e.Repo, tag)
			}
			seen[e.Repo+":"+tag] = true
		}
	}
}

func TestCRITestSetIdentities(t *testing.T) {
	set := mustSet(t)
	digest := func(ref string) string {
		repo, tag := mirrored(ref)
		return mustDigest(t, mustEntry(t, set, repo, tag)).String()
	}
	// Different tags, different images.
	d1, d2, d3 := digest("gcr.io/k8s-staging-cri-tools/test-image-1"),
		digest("gcr.io/k8s-staging-cri-tools/test-image-2"),
		digest("gcr.io/k8s-staging-cri-tools/test-image-3")
	if d1 == d2 || d2 == d3 || d1 == d3 {
		t.Errorf("test-image-1/2/3 must differ: %s %s %s", d1, d2, d3)
	}
	if digest("gcr.io/k8s-staging-cri-tools/test-image-tag:test") == digest("gcr.io/k8s-staging-cri-tools/test-image-tag:all") {
		t.Error("test-image-tag:test and :all must be different images")
	}
	// Different tags, one image.
	if a, b, c := digest("gcr.io/k8s-staging-cri-tools/test-image-tags:1"),
		digest("gcr.io/k8s-staging-cri-tools/test-image-tags:2"),
		digest("gcr.io/k8s-staging-cri-tools/test-image-tags:3"); a != b || b != c {
		t.Errorf("test-image-tags:1/2/3 must be one image: %s %s %s", a, b, c)
	}
	if digest("registry.k8s.io/pause:3.9") != digest("k8s.gcr.io/pause:3.9") {
		t.Error("both pause:3.9 names must be one image")
	}
}

func TestCRITestSetMediaTypes(t *testing.T) {
	set := mustSet(t)
	kinds := map[types.MediaType]bool{}
	for _, e := range set {
		var mt types.MediaType
		var err error
		if e.Index != nil {
			mt, err = e.Index.MediaType()
		} else {
			mt, err = e.Image.MediaType()
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds[mt] = true
	}
	for _, want := range []types.MediaType{types.DockerManifestSchema2, types.OCIManifestSchema1, types.DockerManifestList, types.OCIImageIndex} {
		if !kinds[want] {
			t.Errorf("no entry uses %s", want)
		}
	}
}

func TestDefaultImageIsMultiPlatform(t *testing.T) {
	e := mustEntry(t, mustSet(t), "e2e-test-images/busybox", "1.29-2")
	if e.Index == nil {
		t.Fatal("busybox:1.29-2 must be an index")
	}
	im, err := e.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	archs := map[string]bool{}
	for _, m := range im.Manifests {
		if m.Platform == nil || m.Platform.OS != "linux" {
			t.Fatalf("manifest %s lacks a linux platform", m.Digest)
		}
		archs[m.Platform.Architecture] = true
	}
	if !archs[runtime.GOARCH] || len(archs) != 2 {
		t.Errorf("platforms %v, want %s plus one other", archs, runtime.GOARCH)
	}
}

func TestImageConfigs(t *testing.T) {
	set := mustSet(t)
	const staging = "k8s-staging-cri-tools/"
	users := map[string]string{
		"test-image-user-uid":            "1002",
		"test-image-user-username":       "www-data",
		"test-image-user-uid-group":      "1003:1004",
		"test-image-user-username-group": "www-data:1004",
		"test-image-predefined-group":    "1000",
	}
	for repo, want := range users {
		if got := mustConfig(t, mustImage(t, set, staging+repo, "latest")).Config.User; got != want {
			t.Errorf("%s: User %q, want %q", repo, got, want)
		}
	}

	nginx := mustConfig(t, mustImage(t, set, "e2e-test-images/nginx", "1.14-2")).Config
	if strings.Join(nginx.Cmd, "|") != "nginx|-g|daemon off;" || nginx.StopSignal != "SIGQUIT" {
		t.Errorf("nginx config: Cmd %q StopSignal %q", nginx.Cmd, nginx.StopSignal)
	}
	if _, ok := nginx.ExposedPorts["80/tcp"]; !ok {
		t.Errorf("nginx exposes %v, want 80/tcp", nginx.ExposedPorts)
	}
	httpd := mustConfig(t, mustImage(t, set, "e2e-test-images/httpd", "2.4.39-4")).Config
	if len(httpd.Cmd) != 1 || httpd.Cmd[0] != "httpd-foreground" {
		t.Errorf("httpd Cmd %q", httpd.Cmd)
	}
	nnp := mustConfig(t, mustImage(t, set, "e2e-test-images/nonewprivs", "1.3")).Config
	if len(nnp.Entrypoint) != 1 || nnp.Entrypoint[0] != "/usr/local/bin/nnp" {
		t.Errorf("nonewprivs Entrypoint %q", nnp.Entrypoint)
	}
}

func TestImageFilesystems(t *testing.T) {
	set := mustSet(t)

	nnp := flatten(t, mustImage(t, set, "e2e-test-images/nonewprivs", "1.3"))["usr/local/bin/nnp"]
	if nnp.hdr == nil || nnp.hdr.Mode != 0o4755 || nnp.hdr.Uid != 0 {
		t.Errorf("nnp must be setuid root (04755, uid 0), got %+v", nnp.hdr)
	}

	pg := flatten(t, mustImage(t, set, "k8s-staging-cri-tools/test-image-predefined-group", "latest"))
	if !strings.Contains(string(pg["etc/group"].data), "group-defined-in-image:x:50000:default-user\n") {
		t.Errorf("predefined-group /etc/group:\n%s", pg["etc/group"].data)
	}
	if !strings.Contains(string(pg["etc/passwd"].data), "default-user:x:1000:1000:") {
		t.Errorf("predefined-group /etc/passwd:\n%s", pg["etc/passwd"].data)
	}

	hostnet := flatten(t, mustImage(t, set, "k8s-staging-cri-tools/hostnet-nginx-"+runtime.GOARCH, "latest"))
	if !strings.Contains(string(hostnet["etc/nginx/conf.d/default.conf"].data), "listen       12003;") {
		t.Errorf("hostnet-nginx default.conf:\n%s", hostnet["etc/nginx/conf.d/default.conf"].data)
	}

	files := map[string]string{ // repo:tag -> the file named after the test
		"k8s-staging-cri-tools/test-image-1:latest":      "test-image-1",
		"k8s-staging-cri-tools/test-image-latest:latest": "test-image-latest",
		"k8s-staging-cri-tools/test-image-tag:test":      "test",
		"k8s-staging-cri-tools/test-image-tag:all":       "all",
		"k8s-staging-cri-tools/test-image-tags:2":        "same-image",
	}
	for ref, name := range files {
		repo, tag, _ := strings.Cut(ref, ":")
		e := mustEntry(t, set, repo, tag)
		img := e.Image
		if e.Index != nil {
			img = hostImage(t, e)
		}
		if _, ok := flatten(t, img)[name]; !ok {
			t.Errorf("%s lacks the file %q", ref, name)
		}
	}
}

// hostImage picks the host platform's image out of an index entry.
func hostImage(t *testing.T, e Entry) v1.Image {
	t.Helper()
	im, err := e.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.Architecture == runtime.GOARCH {
			img, err := e.Index.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			return img
		}
	}
	t.Fatalf("%s has no %s image", e.Repo, runtime.GOARCH)
	return nil
}
