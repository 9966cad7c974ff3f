// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// busyboxConfig is the config of the plain busybox images: a shell.
func busyboxConfig() v1.Config {
	return v1.Config{Env: []string{defaultPath}, Cmd: []string{"sh"}}
}

// busybox returns the busybox image for the host platform, on top of which
// the other images add a layer or change the config. Like every spec
// method, it leaves the media types (spec.oci) to the caller.
func (b *builder) busybox() imageSpec {
	return imageSpec{arch: b.arch, config: busyboxConfig(), layers: []*layerBlob{b.base}}
}

// Busybox returns the busybox image for the host platform: Debian's
// dynamically linked busybox with its libraries, one symlink per applet,
// pgrep and ipcs, /etc/passwd and /etc/group, Cmd ["sh"]. It uses Docker
// schema2 media types and one gzip layer.
func Busybox() (v1.Image, error) {
	b, err := sharedBuilder()
	if err != nil {
		return nil, err
	}
	return b.busybox().build() // Docker schema2
}

// BusyboxZstd returns the same root filesystem as Busybox (same DiffID) in
// a zstd-compressed layer, which only an OCI manifest can carry.
func BusyboxZstd() (v1.Image, error) {
	b, err := sharedBuilder()
	if err != nil {
		return nil, err
	}
	z, err := newLayerBlob(b.base.uncompressed, zstdCompressed, b.base.createdBy)
	if err != nil {
		return nil, fmt.Errorf("zstd busybox layer: %w", err)
	}
	spec := b.busybox()
	spec.oci = true
	spec.layers = []*layerBlob{z}
	return spec.build()
}

// foreignArch is the architecture of the placeholder image published next
// to the real one in multi-platform indexes.
func (b *builder) foreignArch() (arch, variant string) {
	if b.arch == "arm64" {
		return "amd64", ""
	}
	return "arm64", "v8"
}

// placeholder is a tiny image for the foreign architecture. It only has to
// exist so that a runtime resolving an index must choose by platform; it is
// never meant to run.
func (b *builder) placeholder(oci bool) (v1.Image, error) {
	arch, variant := b.foreignArch()
	note := fmt.Sprintf("podshim test placeholder for linux/%s: not runnable\n", arch)
	l, err := layerFromEntries([]TarEntry{regFile("README", 0o644, []byte(note))}, gzipped, "podshim: placeholder")
	if err != nil {
		return nil, err
	}
	return imageSpec{arch: arch, variant: variant, oci: oci, config: busyboxConfig(), layers: []*layerBlob{l}}.build()
}

// multiArch publishes img for the host platform alongside the foreign
// placeholder.
func (b *builder) multiArch(img v1.Image, oci bool) (v1.ImageIndex, error) {
	ph, err := b.placeholder(oci)
	if err != nil {
		return nil, err
	}
	return multiPlatform(oci, img, ph)
}
