// SPDX-License-Identifier: Apache-2.0

package images

import (
	"archive/tar"
	"fmt"
	"path"
	"runtime"
	"sort"
	"sync"
)

// builder holds what every image is made from. Building it (compiling the
// stand-ins, reading the host's busybox, compressing the base layer) is the
// expensive part, so the package keeps one (see shared); tests make fresh
// ones to prove two builds agree.
type builder struct {
	arch     string
	standins map[string][]byte
	// base is the busybox root filesystem layer every image starts from.
	base *layerBlob
}

var shared struct {
	once sync.Once
	b    *builder
	err  error
}

// sharedBuilder returns the process-wide builder, made on first use.
func sharedBuilder() (*builder, error) {
	shared.once.Do(func() { shared.b, shared.err = newBuilder() })
	return shared.b, shared.err
}

func newBuilder() (*builder, error) {
	// The images run on this host, whose busybox they copy.
	arch := runtime.GOARCH
	bins, err := buildStandins(arch)
	if err != nil {
		return nil, err
	}
	hb, err := readHostBusybox()
	if err != nil {
		return nil, err
	}
	base, err := layerFromEntries(baseRootfs(hb, bins["procutils"]), gzipped, "podshim: busybox root filesystem")
	if err != nil {
		return nil, fmt.Errorf("build busybox layer: %w", err)
	}
	return &builder{arch: arch, standins: bins, base: base}, nil
}

// baseRootfs lays out a small busybox distribution: the binary, its shared
// libraries at the paths the loader expects, one hard link per applet (as
// the official busybox image has them: masking one applet's path, as the
// MaskedPaths spec masks /bin/ls, must not mask busybox itself, which a
// symlink would), pgrep and ipcs from procutils, account databases and the
// usual directories.
func baseRootfs(hb *hostBusybox, procutils []byte) []TarEntry {
	t := tree{}
	for _, d := range []string{"bin", "dev", "etc", "home", "proc", "sbin", "sys", "usr/bin", "usr/sbin", "usr/local/bin", "var/run", "var/www"} {
		t.add(dirEntry(d, 0o755))
	}
	t.add(dirEntry("root", 0o700), dirEntry("tmp", 0o1777))
	t.add(hb.libs...)
	// A tar hard link must follow the file it names: the path that sorts
	// first carries the binary, every other applet links to it.
	paths := append([]string{hb.binary.Name}, hb.applets...)
	sort.Strings(paths)
	first := hb.binary
	first.Name = paths[0]
	t.add(first)
	listed := map[string]bool{}
	for _, p := range paths[1:] {
		listed[path.Base(p)] = true
		// The link carries its target's mode and owner, as tar writes
		// them: containerd and docker apply a link header's mode to the
		// shared inode, so a link with mode 0 made every applet 0000 there.
		t.add(TarEntry{Name: p, Type: tar.TypeLink, Linkname: paths[0], Mode: first.Mode, UID: first.UID, GID: first.GID})
	}
	t.add(regFile("usr/bin/procutils", 0o755, procutils))
	for _, cmd := range []string{"pgrep", "ipcs"} {
		if !listed[cmd] { // prefer busybox's own applet when a build has it
			t.add(symlink("usr/bin/"+cmd, "procutils"))
		}
	}
	t.add(
		regFile("etc/passwd", 0o644, []byte(basePasswd)),
		regFile("etc/group", 0o644, []byte(baseGroup)),
		regFile("etc/nsswitch.conf", 0o644, []byte(nsswitchConf)),
		regFile("etc/hostname", 0o644, nil),
		regFile("etc/hosts", 0o644, nil),
		regFile("etc/resolv.conf", 0o644, nil),
	)
	return t.sorted()
}
