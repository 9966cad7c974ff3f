// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"time"

	"github.com/opencontainers/runtime-spec/specs-go/features"
)

// featuresTimeout bounds the `features` call made once per handler at
// start-up: a runtime binary that hangs must not hold the daemon.
const featuresTimeout = 10 * time.Second

// Features is what an OCI runtime binary says it supports, asked through
// its `features` subcommand (OCI runtime-spec features.md), as containerd
// does. A binary without that subcommand (crun before 1.9, for one) leaves
// Probed false and every capability false but what a trial proves (see
// ProbeRecursiveReadOnly): unknown is never reported as supported.
type Features struct {
	// Probed is true when the binary answered `features`.
	Probed bool `json:"probed"`
	// RecursiveReadOnly: the "rro" mount option is recognised.
	RecursiveReadOnly bool `json:"recursiveReadOnlyMounts"`
	// RecursiveReadOnlyTried: RecursiveReadOnly was found by a trial
	// mount (ProbeRecursiveReadOnly), the binary having no `features`.
	RecursiveReadOnlyTried bool `json:"recursiveReadOnlyTried,omitempty"`
	// UserNamespaces: the user namespace is recognised and idmapped mounts
	// are enabled, which user-namespaced pods need.
	UserNamespaces bool `json:"userNamespaces"`
	// OCIVersionMax is the newest runtime-spec version it recognises.
	OCIVersionMax string `json:"ociVersionMax,omitempty"`
	// Error says why probing failed, when it did.
	Error string `json:"error,omitempty"`
}

// ProbeFeatures runs `binary features` and reads its answer.
func ProbeFeatures(ctx context.Context, binary string) Features {
	ctx, cancel := context.WithTimeout(ctx, featuresTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "features").Output()
	if err != nil {
		return Features{Error: fmt.Sprintf("%s features: %v", binary, err)}
	}
	f, err := parseFeatures(out)
	if err != nil {
		return Features{Error: fmt.Sprintf("%s features: %v", binary, err)}
	}
	return f
}

// parseFeatures reads the JSON document of a `features` answer.
func parseFeatures(data []byte) (Features, error) {
	var doc features.Features
	if err := json.Unmarshal(data, &doc); err != nil {
		return Features{}, fmt.Errorf("decode: %w", err)
	}
	f := Features{Probed: true, RecursiveReadOnly: slices.Contains(doc.MountOptions, "rro"), OCIVersionMax: doc.OCIVersionMax}
	if l := doc.Linux; l != nil && slices.Contains(l.Namespaces, "user") {
		idmap := l.MountExtensions != nil && l.MountExtensions.IDMap != nil &&
			l.MountExtensions.IDMap.Enabled != nil && *l.MountExtensions.IDMap.Enabled
		f.UserNamespaces = idmap
	}
	return f, nil
}
