// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"strconv"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/storage"
)

// toCRIImage describes a stored image the way the kubelet expects.
func toCRIImage(img storage.Image) *runtimeapi.Image {
	out := &runtimeapi.Image{
		Id:          img.ID,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		Size:        img.Size,
		Spec:        &runtimeapi.ImageSpec{Image: img.ID, Annotations: img.Config.Config.Labels},
		Pinned:      img.Pinned,
	}
	uid, name := imageUser(img.Config.Config.User)
	if uid != nil {
		out.Uid = &runtimeapi.Int64Value{Value: *uid}
	} else {
		out.Username = name
	}
	return out
}

// imageUser splits an image's USER ("1002", "www-data", "1003:50",
// "www-data:www-data") into a numeric uid or a user name; the group part
// does not belong in the CRI Image and is dropped. The kubelet uses this to
// enforce runAsNonRoot, so a name is never guessed into a uid.
func imageUser(user string) (*int64, string) {
	u, _, _ := strings.Cut(user, ":")
	if u == "" {
		return nil, ""
	}
	if n, err := strconv.ParseInt(u, 10, 64); err == nil {
		return &n, ""
	}
	return nil, u
}
