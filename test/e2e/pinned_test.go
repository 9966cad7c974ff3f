// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/registry"
)

// Images matching pinned_images are reported pinned, so the kubelet's image
// GC keeps them; others are not.
func TestPinnedImagesAreReportedPinned(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "[image]\npinned_images = [\"127.0.0.1:*/library/busy*\"]\n")
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	if !imageStatus(t, d, image).Pinned {
		t.Errorf("%s matches the pattern but is not pinned", image)
	}
	list, err := d.images.ListImages(ctxT(t, 10*time.Second), &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.Images) != 1 || !list.Images[0].Pinned {
		t.Fatalf("ListImages: %v %v", list, err)
	}

	other := startDaemon(t, "[image]\npinned_images = [\"registry.k8s.io/pause:*\"]\n")
	if _, err := pull(t, other, image, nil); err != nil {
		t.Fatal(err)
	}
	if imageStatus(t, other, image).Pinned {
		t.Errorf("%s is pinned though no pattern matches", image)
	}
}
