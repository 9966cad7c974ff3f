// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/images"
	"github.com/podshim/podshim/test/registry"
)

func TestMaliciousLayersAreRefusedWithNothingWrittenOutside(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	base, err := images.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	victim := filepath.Join(outside, "victim")
	os.WriteFile(victim, []byte("untouched\n"), 0o644)

	cases := map[string][]images.TarEntry{
		"dotdot": {{Name: "../../../../../../.." + filepath.Join(outside, "evil"), Data: []byte("x")}},
		"symlink-out": {
			{Name: "escape", Type: '2', Linkname: outside},
			{Name: "escape/evil", Data: []byte("x")},
		},
		"hardlink-out": {{Name: "passwd-link", Type: '1', Linkname: "../../../../../../.." + victim}},
	}
	for name, entries := range cases {
		img, err := images.WithLayer(base, entries)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Push([]images.Entry{{Repo: "evil/" + name, Tags: []string{"1"}, Image: img}}); err != nil {
			t.Fatal(err)
		}
		ref := reg.Addr + "/evil/" + name + ":1"
		_, err = pull(t, d, ref, nil)
		wantCode(t, err, codes.DataLoss, "escapes")
		if img := imageStatus(t, d, ref); img != nil {
			t.Fatalf("%s: a refused image was recorded: %+v", name, img)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("something was written outside the layer: %v", entries)
	}
	if data, _ := os.ReadFile(victim); string(data) != "untouched\n" {
		t.Fatalf("victim file changed: %q", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(d.dir, "root", "images", "layers", ".tmp-*"))
	if len(leftovers) != 0 {
		t.Fatalf("refused layers left temp dirs: %v", leftovers)
	}
}

// stallingProxy forwards to a registry but holds every blob download after
// its first bytes until released, so a test can kill the daemon mid-pull.
type stallingProxy struct {
	*httptest.Server
	stalled chan struct{}
	once    sync.Once
	release chan struct{}
}

func newStallingProxy(t *testing.T, target string) *stallingProxy {
	u, _ := url.Parse("http://" + target)
	p := &stallingProxy{stalled: make(chan struct{}), release: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if strings.Contains(resp.Request.URL.Path, "/blobs/") && resp.ContentLength > 4096 {
			resp.Body = &stallAfter{ReadCloser: resp.Body, left: 4096, p: p}
		}
		return nil
	}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(func() {
		close(p.release)
		p.Server.CloseClientConnections()
		p.Server.Close()
	})
	return p
}

type stallAfter struct {
	io.ReadCloser
	left int
	p    *stallingProxy
}

func (s *stallAfter) Read(b []byte) (int, error) {
	if s.left <= 0 {
		s.p.once.Do(func() { close(s.p.stalled) })
		<-s.p.release
		return 0, io.ErrUnexpectedEOF
	}
	if len(b) > s.left {
		b = b[:s.left]
	}
	n, err := s.ReadCloser.Read(b)
	s.left -= n
	return n, err
}

func TestPullKilledHalfWayLeavesAWorkingStore(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	proxy := newStallingProxy(t, reg.Addr)
	proxyAddr := strings.TrimPrefix(proxy.URL, "http://")
	d := startDaemon(t, "")

	go d.images.PullImage(context.Background(), &runtimeapi.PullImageRequest{
		Image: &runtimeapi.ImageSpec{Image: proxyAddr + "/library/busybox:1"}})
	select {
	case <-proxy.stalled:
	case <-time.After(time.Minute):
		t.Fatal("the pull never reached a layer download")
	}
	d.kill()
	d.start()

	if img := imageStatus(t, d, proxyAddr+"/library/busybox:1"); img != nil {
		t.Fatalf("a half-pulled image is listed: %+v", img)
	}
	for _, pattern := range []string{"blobs/sha256/.tmp-*", "layers/.tmp-*"} {
		if left, _ := filepath.Glob(filepath.Join(d.dir, "root", "images", pattern)); len(left) != 0 {
			t.Fatalf("restart did not sweep %v", left)
		}
	}
	id, err := pull(t, d, reg.Addr+"/library/busybox:1", nil)
	if err != nil {
		t.Fatalf("pull after the crash: %v", err)
	}
	if img := imageStatus(t, d, id); img == nil {
		t.Fatal("image missing after a pull that followed a crash")
	}
}
