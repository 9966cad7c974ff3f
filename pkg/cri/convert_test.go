// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

func TestImageUserSplitsUidFromName(t *testing.T) {
	for user, want := range map[string]struct {
		uid  int64
		name string
	}{
		"":                {-1, ""},
		"1002":            {1002, ""},
		"www-data":        {-1, "www-data"},
		"1003:1004":       {1003, ""},
		"www-data:nobody": {-1, "www-data"},
	} {
		uid, name := imageUser(user)
		gotUID := int64(-1)
		if uid != nil {
			gotUID = *uid
		}
		if gotUID != want.uid || name != want.name {
			t.Errorf("%q: uid %d name %q, want %d %q", user, gotUID, name, want.uid, want.name)
		}
	}
}

func TestLabelSelectorNeedsEveryLabel(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front"}
	if !labelsMatch(labels, nil) || !labelsMatch(labels, map[string]string{"app": "web"}) {
		t.Error("a subset selector should match")
	}
	if labelsMatch(labels, map[string]string{"app": "web", "tier": "back"}) || labelsMatch(labels, map[string]string{"x": ""}) {
		t.Error("a differing or missing label should not match")
	}
}

func TestErrorsMapToTheCodesClientsActOn(t *testing.T) {
	for err, want := range map[error]codes.Code{
		fmt.Errorf("pull x: %w", storage.ErrNotFound):         codes.NotFound,
		fmt.Errorf("pull x: %w", storage.ErrInvalidReference): codes.InvalidArgument,
		fmt.Errorf("pull x: %w", storage.ErrUnauthorized):     codes.PermissionDenied,
		fmt.Errorf("pull x: %w", storage.ErrUnavailable):      codes.Unavailable,
		fmt.Errorf("pull x: %w", storage.ErrProgressTimeout):  codes.DeadlineExceeded,
		fmt.Errorf("pull x: %w", context.DeadlineExceeded):    codes.DeadlineExceeded,
		fmt.Errorf("pull x: %w", storage.ErrBadContent):       codes.DataLoss,
		fmt.Errorf("run: %w", sandbox.ErrInvalid):             codes.InvalidArgument,
		fmt.Errorf("run: %w", sandbox.ErrNameTaken):           codes.AlreadyExists,
		fmt.Errorf("run: %w", sandbox.ErrNotFound):            codes.NotFound,
		fmt.Errorf("run: %w", sandbox.ErrUnsupported):         codes.Unimplemented,
		errors.New("disk on fire"):                            codes.Internal,
	} {
		got := toStatus(err)
		if status.Code(got) != want {
			t.Errorf("%v: %v, want %v", err, status.Code(got), want)
		}
		if status.Convert(got).Message() != err.Error() {
			t.Errorf("the message should keep the context: %q", status.Convert(got).Message())
		}
	}
}
