// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/images"
	"github.com/podshim/podshim/test/registry"
)

// startRegistry serves busybox as library/busybox:1 on loopback.
func startRegistry(t *testing.T, opts registry.Options) *registry.Server {
	t.Helper()
	srv, err := registry.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	bb, err := images.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Push([]images.Entry{{Repo: "library/busybox", Tags: []string{"1"}, Image: bb}}); err != nil {
		t.Fatal(err)
	}
	return srv
}

func pull(t *testing.T, d *daemon, ref string, auth *runtimeapi.AuthConfig) (string, error) {
	t.Helper()
	resp, err := d.images.PullImage(ctxT(t, 2*time.Minute), &runtimeapi.PullImageRequest{
		Image: &runtimeapi.ImageSpec{Image: ref}, Auth: auth})
	return resp.GetImageRef(), err
}

func imageStatus(t *testing.T, d *daemon, ref string) *runtimeapi.Image {
	t.Helper()
	resp, err := d.images.ImageStatus(ctxT(t, 10*time.Second), &runtimeapi.ImageStatusRequest{
		Image: &runtimeapi.ImageSpec{Image: ref}, Verbose: true})
	if err != nil {
		t.Fatalf("ImageStatus %s: %v", ref, err)
	}
	return resp.Image
}

func wantCode(t *testing.T, err error, code codes.Code, mention string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("want %v, got %v", code, err)
	}
	if mention != "" && !strings.Contains(status.Convert(err).Message(), mention) {
		t.Fatalf("the %v message should name %q: %v", code, mention, err)
	}
}

func TestPullListInspectRemoveOverPlainHTTP(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	ref := reg.Addr + "/library/busybox:1"

	id, err := pull(t, d, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("PullImage should answer with the image ID, got %q", id)
	}

	img := imageStatus(t, d, ref)
	if img == nil || img.Id != id || len(img.RepoTags) != 1 || img.RepoTags[0] != ref || img.Size == 0 {
		t.Fatalf("ImageStatus: %+v", img)
	}
	if len(img.RepoDigests) != 1 || !strings.HasPrefix(img.RepoDigests[0], reg.Addr+"/library/busybox@sha256:") {
		t.Fatalf("RepoDigests: %v", img.RepoDigests)
	}
	// Every way of naming the image finds the same one.
	for _, name := range []string{id, strings.TrimPrefix(id, "sha256:"), img.RepoDigests[0]} {
		if got := imageStatus(t, d, name); got == nil || got.Id != id {
			t.Fatalf("ImageStatus(%s) = %+v", name, got)
		}
	}
	verbose, err := d.images.ImageStatus(ctxT(t, 10*time.Second), &runtimeapi.ImageStatusRequest{
		Image: &runtimeapi.ImageSpec{Image: id}, Verbose: true})
	if err != nil || !strings.Contains(verbose.Info["info"], `"Cmd"`) {
		t.Fatalf("verbose ImageStatus should carry the image config: %v %v", verbose.GetInfo(), err)
	}

	list, err := d.images.ListImages(ctxT(t, 10*time.Second), &runtimeapi.ListImagesRequest{})
	if err != nil || len(list.Images) != 1 || list.Images[0].Id != id {
		t.Fatalf("ListImages: %v %v", list, err)
	}
	filtered, err := d.images.ListImages(ctxT(t, 10*time.Second), &runtimeapi.ListImagesRequest{
		Filter: &runtimeapi.ImageFilter{Image: &runtimeapi.ImageSpec{Image: "nothing-like-it:1"}}})
	if err != nil || len(filtered.Images) != 0 {
		t.Fatalf("a filter naming another image must match nothing: %v %v", filtered, err)
	}

	fs, err := d.images.ImageFsInfo(ctxT(t, 10*time.Second), &runtimeapi.ImageFsInfoRequest{})
	if err != nil || len(fs.ImageFilesystems) != 1 {
		t.Fatalf("ImageFsInfo: %v %v", fs, err)
	}
	// busybox with its libc unpacked is well over a megabyte, in dozens of inodes.
	if u := fs.ImageFilesystems[0]; u.UsedBytes.GetValue() < 1<<20 || u.InodesUsed.GetValue() < 10 || u.FsId.GetMountpoint() == "" {
		t.Fatalf("ImageFsInfo should count the real store: %+v", u)
	}
	// Container writable layers are reported apart; with no container the
	// directory is there and next to empty.
	if len(fs.ContainerFilesystems) != 1 || fs.ContainerFilesystems[0].FsId.GetMountpoint() == fs.ImageFilesystems[0].FsId.GetMountpoint() ||
		fs.ContainerFilesystems[0].InodesUsed.GetValue() < 1 {
		t.Fatalf("ImageFsInfo should report container layers separately: %+v", fs.ContainerFilesystems)
	}

	if _, err := d.images.RemoveImage(ctxT(t, 10*time.Second), &runtimeapi.RemoveImageRequest{
		Image: &runtimeapi.ImageSpec{Image: ref}}); err != nil {
		t.Fatal(err)
	}
	if got := imageStatus(t, d, id); got != nil {
		t.Fatalf("image still there after RemoveImage: %+v", got)
	}
	// Removing what is gone succeeds: RemoveImage is idempotent.
	if _, err := d.images.RemoveImage(ctxT(t, 10*time.Second), &runtimeapi.RemoveImageRequest{
		Image: &runtimeapi.ImageSpec{Image: ref}}); err != nil {
		t.Fatalf("second RemoveImage: %v", err)
	}
	// Its content is deleted a moment later (the store's GC delay), not
	// before RemoveImage returns.
	var after *runtimeapi.ImageFsInfoResponse
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		after, err = d.images.ImageFsInfo(ctxT(t, 10*time.Second), &runtimeapi.ImageFsInfoRequest{})
		if err == nil && after.ImageFilesystems[0].UsedBytes.GetValue() < fs.ImageFilesystems[0].UsedBytes.GetValue() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("removing the only image should free its bytes: before %v after %v (%v)", fs, after, err)
		}
	}
}

func TestRepullDownloadsNoLayer(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	ref := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, ref, nil); err != nil {
		t.Fatal(err)
	}
	blobs := reg.Requests("/v2/library/busybox/blobs/")
	if blobs == 0 {
		t.Fatal("the first pull should have fetched blobs")
	}
	if _, err := pull(t, d, ref, nil); err != nil {
		t.Fatal(err)
	}
	if again := reg.Requests("/v2/library/busybox/blobs/"); again != blobs {
		t.Fatalf("pulling a present image fetched %d more blobs", again-blobs)
	}
}

func TestMirrorServesDockerHubNames(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, fmt.Sprintf("[registry.mirrors]\n\"docker.io\" = [\"http://%s\"]\n", reg.Addr))
	if _, err := pull(t, d, "busybox:1", nil); err != nil {
		t.Fatal(err)
	}
	// The image keeps the name the user asked for, normalised as the kubelet does.
	img := imageStatus(t, d, "docker.io/library/busybox:1")
	if img == nil || img.RepoTags[0] != "docker.io/library/busybox:1" {
		t.Fatalf("mirrored image: %+v", img)
	}
	if imageStatus(t, d, "busybox:1") == nil {
		t.Fatal("the short name should find the image too")
	}
}

func TestPullOverTLSWithConfiguredCA(t *testing.T) {
	caPEM, tlsCfg, err := registry.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	reg := startRegistry(t, registry.Options{TLS: tlsCfg})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	ref := reg.Addr + "/library/busybox:1"

	// Without the CA the certificate cannot be trusted.
	plain := startDaemon(t, "")
	if _, err := pull(t, plain, ref, nil); err == nil {
		t.Fatal("a pull from a registry with an unknown CA must fail")
	}

	d := startDaemon(t, fmt.Sprintf("[registry.hosts.%q]\nca_file = %q\n", reg.Addr, ca))
	if _, err := pull(t, d, ref, nil); err != nil {
		t.Fatalf("pull with the registry's CA configured: %v", err)
	}
	insecureTLS := startDaemon(t, fmt.Sprintf("[registry.hosts.%q]\ninsecure = true\n", reg.Addr))
	if _, err := pull(t, insecureTLS, ref, nil); err != nil {
		t.Fatalf("pull from an insecure (unverified TLS) host: %v", err)
	}
}

func TestPullWithBasicAuth(t *testing.T) {
	creds := &registry.Credentials{Username: "kube", Password: "s3cret"}
	reg := startRegistry(t, registry.Options{BasicAuth: creds})
	d := startDaemon(t, "")
	ref := reg.Addr + "/library/busybox:1"

	_, err := pull(t, d, ref, nil)
	wantCode(t, err, codes.PermissionDenied, ref)
	_, err = pull(t, d, ref, &runtimeapi.AuthConfig{Username: "kube", Password: "wrong"})
	wantCode(t, err, codes.PermissionDenied, ref)

	if _, err := pull(t, d, ref, &runtimeapi.AuthConfig{Username: "kube", Password: "s3cret"}); err != nil {
		t.Fatalf("username/password: %v", err)
	}
	d.images.RemoveImage(ctxT(t, 10*time.Second), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	encoded := base64.StdEncoding.EncodeToString([]byte("kube:s3cret"))
	if _, err := pull(t, d, ref, &runtimeapi.AuthConfig{Auth: encoded}); err != nil {
		t.Fatalf("base64 auth: %v", err)
	}
}

func TestPullWithBearerTokenAuth(t *testing.T) {
	creds := &registry.Credentials{Username: "kube", Password: "t0ken"}
	reg := startRegistry(t, registry.Options{TokenAuth: creds})
	d := startDaemon(t, "")
	ref := reg.Addr + "/library/busybox:1"

	_, err := pull(t, d, ref, nil)
	wantCode(t, err, codes.PermissionDenied, ref)
	if _, err := pull(t, d, ref, &runtimeapi.AuthConfig{Username: "kube", Password: "t0ken"}); err != nil {
		t.Fatalf("token flow: %v", err)
	}
}

func TestImagesSurviveRestartAndKill(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	ref := reg.Addr + "/library/busybox:1"
	id, err := pull(t, d, ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.restart()
	if img := imageStatus(t, d, ref); img == nil || img.Id != id {
		t.Fatalf("after restart: %+v", img)
	}
	d.kill()
	d.start()
	if img := imageStatus(t, d, ref); img == nil || img.Id != id {
		t.Fatalf("after kill -9: %+v", img)
	}
}

func TestBadReferencesAndUnknownImages(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")

	_, err := pull(t, d, "", nil)
	wantCode(t, err, codes.InvalidArgument, "empty")
	_, err = pull(t, d, "Not//A:Valid::Ref", nil)
	wantCode(t, err, codes.InvalidArgument, "Not//A:Valid::Ref")

	missing := reg.Addr + "/library/busybox:no-such-tag"
	_, err = pull(t, d, missing, nil)
	wantCode(t, err, codes.NotFound, missing)
	missingRepo := reg.Addr + "/nobody/nothing:1"
	_, err = pull(t, d, missingRepo, nil)
	wantCode(t, err, codes.NotFound, missingRepo)

	// ImageStatus of an absent image is an empty answer, not an error.
	if img := imageStatus(t, d, "docker.io/library/absent:1"); img != nil {
		t.Fatalf("absent image: %+v", img)
	}
}

func TestUnreachableRegistryIsUnavailable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more
	d := startDaemon(t, "")
	ref := addr + "/library/busybox:1"
	_, err = pull(t, d, ref, nil)
	wantCode(t, err, codes.Unavailable, addr)
}

func TestHangingRegistryHitsTheProgressTimeout(t *testing.T) {
	// A registry that accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	d := startDaemon(t, "[image]\nprogress_timeout = \"2s\"\n")
	ref := ln.Addr().String() + "/library/busybox:1"
	_, err = pull(t, d, ref, nil)
	wantCode(t, err, codes.DeadlineExceeded, ref)
}

func TestCallerDeadlineIsHonoured(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err := d.images.PullImage(ctx, &runtimeapi.PullImageRequest{
		Image: &runtimeapi.ImageSpec{Image: reg.Addr + "/library/busybox:1"}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("want DeadlineExceeded, got %v", err)
	}
}
