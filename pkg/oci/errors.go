// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid marks a container configuration that cannot be right on
	// any node: the CRI client must change its request.
	ErrInvalid = errors.New("invalid container configuration")
	// ErrUnsupported marks a valid request this node (or this version of
	// podshim) cannot honour, such as an AppArmor profile on a kernel
	// without AppArmor.
	ErrUnsupported = errors.New("not supported on this node")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func unsupportedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
