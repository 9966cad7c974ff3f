// SPDX-License-Identifier: Apache-2.0

package container

import (
	"fmt"
	"os"

	securejoin "github.com/cyphar/filepath-securejoin"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// imageVolumes returns the resolver pkg/oci calls for each CRI mount of an
// image (an OCI volume source): the image, already pulled by the kubelet,
// is mounted read-only below the container's dir, and the sub path is
// resolved inside it without ever leaving it.
func (m *Manager) imageVolumes(r *Record) func(*runtimeapi.ImageSpec, string) (string, error) {
	n := 0
	return func(image *runtimeapi.ImageSpec, subPath string) (string, error) {
		img, err := m.images.Get(image.GetImage())
		if err != nil {
			return "", fmt.Errorf("the image must be pulled first: %w", err)
		}
		dir, err := m.images.MountImageVolume(r.ID, n, img.ID)
		if err != nil {
			return "", err
		}
		n++
		if r.ImageVolumes == nil {
			r.ImageVolumes = map[string]string{}
		}
		r.ImageVolumes[image.GetImage()] = img.ID
		if subPath == "" {
			return dir, nil
		}
		p, err := securejoin.SecureJoin(dir, subPath)
		if err != nil {
			return "", fmt.Errorf("%w: sub path %q: %v", ErrInvalid, subPath, err)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: sub path %q does not exist in image %s", ErrInvalid, subPath, image.GetImage())
		}
		return p, nil
	}
}
