// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// nodePlatform is the platform this binary runs on, with the ARM variant
// the CPU reports, as containerd and the kubelet see it.
func nodePlatform() v1.Platform {
	p := v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	switch runtime.GOARCH {
	case "arm64":
		p.Variant = "v8"
	case "arm":
		p.Variant = armVariant()
	}
	return p
}

// armVariant reads the CPU architecture generation from /proc/cpuinfo;
// ARMv7 is the safe guess when it cannot be read.
func armVariant() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "v7"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "CPU architecture" {
			continue
		}
		value = strings.TrimSpace(value)
		if value != "" && value[0] >= '5' && value[0] <= '7' {
			return "v" + value[:1]
		}
		// A 32-bit userland on an ARMv8 CPU runs v7 binaries.
		return "v7"
	}
	return "v7"
}

// normalVariant makes variants comparable: arm64 without a variant is v8,
// amd64 v1 is plain amd64.
func normalVariant(arch, variant string) string {
	switch {
	case arch == "arm64" && variant == "":
		return "v8"
	case arch == "amd64" && variant == "v1":
		return ""
	}
	return variant
}

// platformScore says how well an index entry fits the wanted platform:
// 0 does not run, higher is better. An exact variant beats an entry that
// names none, which beats an older ARM generation the CPU still runs.
func platformScore(want v1.Platform, have *ocispec.Platform) int {
	if have == nil || have.OS != want.OS || have.Architecture != want.Architecture {
		return 0
	}
	wantV := normalVariant(want.Architecture, want.Variant)
	haveV := normalVariant(have.Architecture, have.Variant)
	switch {
	case wantV == haveV:
		return 3
	case haveV == "":
		return 2
	case want.Architecture == "arm" && len(haveV) == 2 && len(wantV) == 2 && haveV < wantV:
		return 1
	}
	return 0
}

// chooseManifest picks the index entry for the platform, the first of the
// best-scoring ones, so the registry's order breaks ties.
func chooseManifest(index ocispec.Index, want v1.Platform) (ocispec.Descriptor, error) {
	best, bestScore := -1, 0
	for i, d := range index.Manifests {
		if s := platformScore(want, d.Platform); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best < 0 {
		return ocispec.Descriptor{}, fmt.Errorf("no manifest for platform %s in the index: %w", platformString(want), ErrNotFound)
	}
	return index.Manifests[best], nil
}

func platformString(p v1.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
