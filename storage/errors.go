// SPDX-License-Identifier: Apache-2.0

package storage

import "errors"

// Error kinds. Every error the store returns that fits one of these wraps it
// (test with errors.Is), under a message that says what was being done; the
// CRI layer turns the kind into a gRPC code.
var (
	// ErrNotFound: no such image locally, or no such repository, tag,
	// manifest or blob on the registry, or no manifest for this platform.
	ErrNotFound = errors.New("not found")
	// ErrInvalidReference: the reference cannot be parsed.
	ErrInvalidReference = errors.New("invalid image reference")
	// ErrUnavailable: the registry could not be reached, broke the
	// connection, or answered with a server error (5xx, 429).
	ErrUnavailable = errors.New("registry unavailable")
	// ErrProgressTimeout: no byte arrived from the registry for
	// Options.ProgressTimeout while a request was outstanding.
	ErrProgressTimeout = errors.New("pull made no progress")
	// ErrUnauthorized: the registry refused the credentials (401, 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrBadContent: what the registry sent cannot be trusted or used: a
	// digest or size mismatch, an unsafe layer entry, a malformed or
	// unsupported manifest, config or media type.
	ErrBadContent = errors.New("bad image content")
)

// errorKinds lists the kinds so code can tell whether an error already
// carries one.
var errorKinds = []error{ErrNotFound, ErrInvalidReference, ErrUnavailable, ErrProgressTimeout, ErrUnauthorized, ErrBadContent}

// kindOf returns the kind an error carries, or nil.
func kindOf(err error) error {
	for _, kind := range errorKinds {
		if errors.Is(err, kind) {
			return kind
		}
	}
	return nil
}
