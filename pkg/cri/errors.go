// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/oci"
	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

// toStatus turns an internal error into the gRPC status a CRI client can act
// on. The message keeps the wrapped context, which names what went wrong.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, storage.ErrProgressTimeout):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, storage.ErrInvalidReference):
		code = codes.InvalidArgument
	case errors.Is(err, storage.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, storage.ErrUnauthorized):
		code = codes.PermissionDenied
	case errors.Is(err, storage.ErrUnavailable):
		code = codes.Unavailable
	case errors.Is(err, storage.ErrBadContent):
		code = codes.DataLoss
	case errors.Is(err, container.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, container.ErrPodNotReady), errors.Is(err, container.ErrNotCreated), errors.Is(err, container.ErrNotRunning):
		code = codes.FailedPrecondition
	case errors.Is(err, oci.ErrUnsupported):
		code = codes.Unimplemented
	case errors.Is(err, sandbox.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, sandbox.ErrNotFound):
		code = codes.NotFound
	case errors.Is(err, sandbox.ErrNameTaken):
		code = codes.AlreadyExists
	case errors.Is(err, sandbox.ErrUnsupported):
		code = codes.Unimplemented
	case errors.Is(err, sandbox.ErrNodeLacks):
		code = codes.FailedPrecondition
	case errors.Is(err, sandbox.ErrRefused), errors.Is(err, container.ErrRefused):
		// An NRI plugin said no; its reason is in the message.
		code = codes.FailedPrecondition
	}
	return status.Error(code, err.Error())
}

// invalid reports a request that can never succeed as sent.
func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
