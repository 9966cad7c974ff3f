// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// preFeaturesSpecVersion is the runtime-spec version a runtime without a
// `features` command is taken to accept: features arrived with 1.1.0, and
// such runtimes (crun 1.8 for one) refuse a bundle labelled 1.1 or later
// ("unknown version specified").
const preFeaturesSpecVersion = "1.0.2"

// SpecVersion is the ociVersion to write into this runtime's bundles: the
// spec podshim builds (specs.Version), unless the runtime recognises only
// an older one. The fields podshim fills are those of 1.0 except where a
// pod asks for a newer feature, which the handler's features gate.
func (r *Runtime) SpecVersion() string {
	max := r.features.OCIVersionMax
	if !r.features.Probed || max == "" {
		return preFeaturesSpecVersion
	}
	if olderVersion(max, specs.Version) {
		return max
	}
	return specs.Version
}

// olderVersion compares the numeric major.minor.patch of two versions
// ("1.0.2-dev" counts as 1.0.2).
func olderVersion(a, b string) bool {
	pa, pb := versionParts(a), versionParts(b)
	for i := range pa {
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return false
}

func versionParts(v string) [3]int {
	var out [3]int
	v, _, _ = strings.Cut(v, "-")
	for i, p := range strings.SplitN(v, ".", 3) {
		out[i], _ = strconv.Atoi(p)
	}
	return out
}
