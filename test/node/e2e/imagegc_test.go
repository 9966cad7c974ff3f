// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// When the image filesystem crosses the kubelet's imageGCHighThresholdPercent
// (85), the kubelet's image garbage collection removes the images no
// container uses, through podshim's RemoveImage, and keeps the ones in use.
//
// The kubelet collects every five minutes (its first try, at start-up,
// finds cAdvisor's figures not yet there), and only images it has known for
// imageMinimumGCAge (2 minutes at least: 0 means the default), so the
// images are pre-pulled before the kubelet starts, and the test fills the
// image filesystem past the threshold and waits for the next collection
// while the other tests run beside it. No other test uses these images.
func TestImageGCRemovesUnusedImagesPastThreshold(t *testing.T) {
	t.Parallel()
	fsDir := node.ImageFs()
	if fsDir == "" {
		t.Skip("the cluster has no image filesystem of its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	unused := gcImages
	n := newNS(t)
	n.apply(`apiVersion: v1
kind: Pod
metadata: {name: user}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: ` + busybox + `
    command: [sleep, "3600"]
`)
	n.waitPod("user", 2*time.Minute, podPhase(corev1.PodRunning))

	// Fill the filesystem to 90%: past the high threshold, short of the
	// eviction threshold (imagefs.available 1%).
	var st unix.Statfs_t
	if err := unix.Statfs(fsDir, &st); err != nil {
		t.Fatal(err)
	}
	capacity := int64(st.Blocks) * st.Bsize
	avail := int64(st.Bavail) * st.Bsize
	fill := avail - capacity/10
	if fill <= 0 {
		t.Fatalf("image filesystem already %d%% full", 100-avail*100/capacity)
	}
	filler := filepath.Join(fsDir, "filler")
	writeFiller(t, filler, fill)
	t.Cleanup(func() { os.Remove(filler) })

	eventually(t, 7*time.Minute, "unused images collected", func() error {
		out, err := node.Crictl(ctx, "images", "-o", "json")
		if err != nil {
			return err
		}
		for _, img := range unused {
			repo, _, _ := strings.Cut(img, ":")
			if strings.Contains(out, `"`+repo+`:`) {
				return fmt.Errorf("%s still present", img)
			}
		}
		return nil
	})
	out, err := node.Crictl(ctx, "images", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "e2e-test-images/busybox") {
		t.Errorf("the image of a running container was collected:\n%s", out)
	}
	if p := n.pod("user"); p.Status.ContainerStatuses[0].RestartCount != 0 || p.Status.Phase != corev1.PodRunning {
		t.Errorf("the pod using the kept image: phase %s, restarts %d", p.Status.Phase, p.Status.ContainerStatuses[0].RestartCount)
	}
}

// gcImages are pulled before the kubelet starts (main_test.go).
var gcImages = []string{
	"registry.k8s.io/e2e-test-images/httpd:2.4.39-4",
	"gcr.io/k8s-staging-cri-tools/test-image-1:latest",
	"gcr.io/k8s-staging-cri-tools/test-image-2:latest",
}

// writeFiller writes size bytes of real blocks (not a sparse hole).
func writeFiller(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, size); err != nil {
		t.Fatalf("fallocate %d bytes: %v", size, err)
	}
}
