// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
)

// Normalize returns the form of ref that the kubelet and crictl use:
// "busybox" becomes "docker.io/library/busybox:latest", a reference with a
// digest keeps only name@digest (a tag beside a digest is dropped, as
// containerd does). An unparsable reference wraps ErrInvalidReference.
func Normalize(ref string) (string, error) {
	named, err := parseRef(ref)
	if err != nil {
		return "", err
	}
	return named.String(), nil
}

// parseRef parses and normalises ref into a tagged or a digested name.
func parseRef(ref string) (reference.Named, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return nil, fmt.Errorf("%q: %w: %v", ref, ErrInvalidReference, err)
	}
	if c, ok := named.(reference.Canonical); ok && c.Digest().Algorithm() != digest.SHA256 {
		// The content store is addressed by sha256 only.
		return nil, fmt.Errorf("%q: %w: digest algorithm %s is not supported", ref, ErrInvalidReference, c.Digest().Algorithm())
	}
	return named, nil
}

// refIdentifier is what to ask the registry's manifests endpoint for: the
// digest when there is one, else the tag.
func refIdentifier(named reference.Named) string {
	if c, ok := named.(reference.Canonical); ok {
		return c.Digest().String()
	}
	if t, ok := named.(reference.Tagged); ok {
		return t.Tag()
	}
	return "latest"
}

// digestRef is the RepoDigest form name@digest.
func digestRef(named reference.Named, d digest.Digest) string {
	return reference.TrimNamed(named).String() + "@" + d.String()
}

// isDigestRef tells a RepoDigest from a RepoTag in the refs bucket.
func isDigestRef(ref string) bool {
	return strings.Contains(ref, "@")
}

const (
	idPrefix    = "sha256:"
	idHexLen    = 64
	minIDPrefix = 12 // as short as `crictl images` shows IDs
)

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return s != ""
}

// fullImageID recognises "sha256:<64 hex>" and a bare 64-hex ID.
func fullImageID(ref string) (string, bool) {
	hex := strings.TrimPrefix(ref, idPrefix)
	if len(hex) == idHexLen && isLowerHex(hex) {
		return idPrefix + hex, true
	}
	return "", false
}

// imageIDPrefix recognises an abbreviated ID of at least minIDPrefix hex
// digits, with or without "sha256:", and returns it with the prefix.
func imageIDPrefix(ref string) (string, bool) {
	hex := strings.TrimPrefix(ref, idPrefix)
	if len(hex) >= minIDPrefix && len(hex) < idHexLen && isLowerHex(hex) {
		return idPrefix + hex, true
	}
	return "", false
}
