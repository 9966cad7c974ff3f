// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The images the [NodeConformance] specs of k8s.io/kubernetes/test/e2e_node
// v1.37.2 pull (test/utils/image/manifest.go at that version), under their
// registry.k8s.io repository paths with the host dropped, like CRITestSet.
//
// agnhost and nnp are Kubernetes' own programs, built from the
// k8s.io/kubernetes module by test/node/kubebuild/build.sh; NodeSet reads
// them from the directory it is given. Everything else the specs run in
// those images (bash, curl, util-linux's ipcs and ipcmk) is copied from the
// host with the shared libraries it loads, the way the busybox base is.
//
// Not included: the busybox pinned by digest (registry.k8s.io/e2e-test-images/busybox@sha256:a9155b13...),
// which no offline build can reproduce, and the images of specs outside
// [NodeConformance] (perl, node-perf, sample-device-plugin, volume servers).

// NodeKubePrograms are the files NodeSet needs in its directory: the two
// programs and the test certificate agnhost's image carries (from
// test/images/agnhost/porter).
var NodeKubePrograms = []string{"agnhost", "nnp", "agnhost-files/localhost.crt", "agnhost-files/localhost.key"}

// nodeHostPrograms are copied from the host into the images that need them:
// the image path, then the host path.
var (
	// agnhost's specs run `nc -u` and `nc -w`, which Debian's busybox nc
	// lacks: OpenBSD's netcat (Debian's netcat-openbsd), as in agnhost's
	// alpine image.
	agnhostHostPrograms  = [][2]string{{"bin/bash", "/bin/bash"}, {"usr/bin/curl", "/usr/bin/curl"}, {"usr/bin/nc", "/bin/nc.openbsd"}}
	ipcUtilsHostPrograms = [][2]string{{"usr/bin/ipcs", "/usr/bin/ipcs"}, {"usr/bin/ipcmk", "/usr/bin/ipcmk"}, {"usr/bin/ipcrm", "/usr/bin/ipcrm"}}
)

// agnhost's image adds a user and a group for the SupplementalGroups specs
// (test/images/agnhost/Dockerfile: adduser -u 1000 user-defined-in-image,
// addgroup -g 50000 group-defined-in-image, the user a member of it).
const (
	agnhostPasswd = "user-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n"
	agnhostGroup  = "user-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n"
)

// NodeSet returns every image the node conformance specs pull. kubeBin is
// the directory holding agnhost and nnp (build.sh's OUT_DIR/bin).
func NodeSet(kubeBin string) ([]Entry, error) {
	b, err := sharedBuilder()
	if err != nil {
		return nil, err
	}
	progs := map[string][]byte{}
	for _, n := range NodeKubePrograms {
		data, err := os.ReadFile(filepath.Join(kubeBin, n))
		if err != nil {
			return nil, fmt.Errorf("node images need %s from test/node/kubebuild/build.sh OUT_DIR e2e_node: %w", n, err)
		}
		progs[n] = data
	}
	sh, err := bashShLayer()
	if err != nil {
		return nil, err
	}
	items := b.nodeItems(progs)
	set := make([]Entry, 0, len(items))
	for _, it := range items {
		if it.repo != "pause" {
			it.spec = withLayer(it.spec, sh)
		}
		e, err := b.entry(it)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", it.repo, err)
		}
		set = append(set, e)
	}
	return set, nil
}

func (b *builder) nodeItems(progs map[string][]byte) []item {
	plain := func(s imageSpec) func() (imageSpec, error) {
		return func() (imageSpec, error) { return s, nil }
	}
	agnhost := func() (imageSpec, error) {
		return b.agnhost(progs["agnhost"], progs["agnhost-files/localhost.crt"], progs["agnhost-files/localhost.key"])
	}
	return []item{
		// Upstream's busybox tags are multi-platform lists.
		{e2eRepo + "busybox", []string{"1.37.0-2", "1.36.1-1"}, dockerList, plain(b.busybox())},
		// AgnhostPrev (2.55) is served by the same build: the specs use
		// both only as "some agnhost".
		{e2eRepo + "agnhost", []string{"2.66.1", "2.55"}, ociIndex, agnhost},
		{e2eRepo + "nginx", []string{"1.27.0-2", "1.28.0-2"}, ociImage, b.nginx},
		{e2eRepo + "nonewprivs", []string{"1.4"}, dockerImage, func() (imageSpec, error) { return b.kubeNonewprivs(progs["nnp"]) }},
		// test/images/nonroot: the base image with USER 1234.
		{e2eRepo + "nonroot", []string{"1.5"}, dockerImage, plain(b.withUser("1234"))},
		{e2eRepo + "ipc-utils", []string{"1.4"}, ociImage, b.ipcUtils},
		// glibc-dns-testing runs `hostname -f` under a glibc-linked shell,
		// which the base (Debian's dynamic busybox) already is.
		{e2eRepo + "glibc-dns-testing", []string{"2.1.1"}, dockerImage, plain(b.busybox())},
		{"pause", []string{"3.10.2"}, dockerList, b.pause},
	}
}

// bashShLayer makes bash the images' /bin/sh, links every busybox applet
// into /bin and adds nmeter, which
// Debian's busybox lacks and the container lifecycle specs read the clock
// with (procutils implements it). Debian's busybox ash drops
// every environment variable whose name is not a shell identifier before it
// runs a command, and the specs expect such variables ("data-1" from a
// ConfigMap's envFrom) to reach `sh -c env`, as they do under upstream's
// busybox 1.37 and in agnhost's alpine image. (The price: one spec expects
// ash's own wording of an error, "/bin/sh: can't create /file: ...".)
func bashShLayer() (*layerBlob, error) {
	host, err := hostPrograms([][2]string{{"bin/bash", "/bin/bash"}})
	if err != nil {
		return nil, err
	}
	entries := append(host, symlink("bin/sh", "bash"), symlink("usr/bin/nmeter", "procutils"))
	// Upstream's busybox image has every applet in /bin, and specs run
	// some by that path (/bin/sysctl); Debian spreads them over /sbin and
	// /usr. Each gets a /bin link too.
	applets, err := appletPaths(hostBusyboxPath)
	if err != nil {
		return nil, err
	}
	inBin := map[string]bool{"sh": true, "bash": true}
	for _, a := range applets {
		if strings.HasPrefix(a, "bin/") {
			inBin[a[len("bin/"):]] = true
		}
	}
	for _, a := range applets {
		if n := filepath.Base(a); !inBin[n] {
			inBin[n] = true
			entries = append(entries, symlink("bin/"+n, "/"+a))
		}
	}
	l, err := layerFromEntries(tree{}.with(entries...), gzipped, "podshim: bash as /bin/sh, nmeter")
	if err != nil {
		return nil, fmt.Errorf("bash layer: %w", err)
	}
	return l, nil
}

// withLayer adds l on top of the image build makes.
func withLayer(build func() (imageSpec, error), l *layerBlob) func() (imageSpec, error) {
	return func() (imageSpec, error) {
		spec, err := build()
		if err != nil {
			return imageSpec{}, err
		}
		spec.layers = append(append([]*layerBlob(nil), spec.layers...), l)
		return spec, nil
	}
}

// hostPrograms copies host binaries into the image paths given, each with
// every shared library it loads at the path the loader expects.
func hostPrograms(pairs [][2]string) ([]TarEntry, error) {
	var entries []TarEntry
	seen := map[string]bool{}
	for _, p := range pairs {
		name, host := p[0], p[1]
		bin, err := hostFile(host, name)
		if err != nil {
			return nil, fmt.Errorf("%w (the node images copy it from the host)", err)
		}
		entries = append(entries, bin)
		libs, err := sharedLibraries(host)
		if err != nil {
			return nil, err
		}
		for _, l := range libs {
			if seen[l] {
				continue
			}
			seen[l] = true
			lib, err := hostFile(l, strings.TrimPrefix(l, "/"))
			if err != nil {
				return nil, err
			}
			entries = append(entries, lib)
		}
	}
	return entries, nil
}

// agnhost is e2e-test-images/agnhost: the base image plus /agnhost (and
// the agnhost-2 link the entrypoint specs run), porter's certificate at
// /localhost.crt and /localhost.key, bash and curl, which specs
// run in it, /uploads for netexec and the image's extra user and group.
// Entrypoint and Cmd as upstream's: /agnhost pause.
func (b *builder) agnhost(bin, crt, key []byte) (imageSpec, error) {
	host, err := hostPrograms(agnhostHostPrograms)
	if err != nil {
		return imageSpec{}, err
	}
	home := dirEntry("home/user-defined-in-image", 0o755)
	home.UID, home.GID = 1000, 1000
	entries := append(host,
		regFile("agnhost", 0o755, bin),
		regFile("localhost.crt", 0o644, crt),
		regFile("localhost.key", 0o644, key),
		symlink("agnhost-2", "agnhost"),
		dirEntry("uploads", 0o755),
		regFile("etc/passwd", 0o644, []byte(basePasswd+agnhostPasswd)),
		regFile("etc/group", 0o644, []byte(baseGroup+agnhostGroup)),
		home,
	)
	l, err := layerFromEntries(tree{}.with(entries...), gzipped, "podshim: agnhost, bash, curl")
	if err != nil {
		return imageSpec{}, fmt.Errorf("agnhost layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{
		Env:        []string{defaultPath},
		Entrypoint: []string{"/agnhost"},
		Cmd:        []string{"pause"},
		ExposedPorts: map[string]struct{}{
			"80/tcp": {}, "8080/tcp": {}, "8081/tcp": {}, "9376/tcp": {}, "5000/tcp": {},
		},
	}
	return spec, nil
}

// kubeNonewprivs is e2e-test-images/nonewprivs:1.4: Kubernetes' own nnp,
// setuid root, as CMD (upstream's Dockerfile: COPY nnp; chmod +s; CMD nnp).
func (b *builder) kubeNonewprivs(bin []byte) (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(
		regFile("usr/local/bin/nnp", 0o4755, bin),
	), gzipped, "podshim: setuid nnp from k8s.io/kubernetes")
	if err != nil {
		return imageSpec{}, fmt.Errorf("nonewprivs layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{Env: []string{defaultPath}, Cmd: []string{"nnp"}}
	return spec, nil
}

// ipcUtils is e2e-test-images/ipc-utils: the base image plus util-linux's
// ipcs, ipcmk and ipcrm from the host.
func (b *builder) ipcUtils() (imageSpec, error) {
	host, err := hostPrograms(ipcUtilsHostPrograms)
	if err != nil {
		return imageSpec{}, err
	}
	l, err := layerFromEntries(tree{}.with(host...), gzipped, "podshim: util-linux ipc tools")
	if err != nil {
		return imageSpec{}, fmt.Errorf("ipc-utils layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	return spec, nil
}
