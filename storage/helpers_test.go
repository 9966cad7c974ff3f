// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// testRegistry is an in-process registry on loopback (ggcr's), counting the
// requests it serves. Content is put into it directly, not over HTTP, so
// uploads neither count nor need credentials.
type testRegistry struct {
	t    *testing.T
	srv  *httptest.Server
	host string // 127.0.0.1:port
	reg  http.Handler

	mu       sync.Mutex
	blobGets map[digest.Digest]int
	requests []string

	// middleware, when set, sees every request before the registry does.
	middleware func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func newTestRegistry(t *testing.T) *testRegistry {
	return newTestRegistryWith(t, httptest.NewServer)
}

func newTestRegistryWith(t *testing.T, start func(http.Handler) *httptest.Server) *testRegistry {
	t.Helper()
	r := &testRegistry{t: t, reg: registry.New(registry.Logger(log.New(io.Discard, "", 0))), blobGets: map[digest.Digest]int{}}
	r.srv = start(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	r.host = strings.TrimPrefix(strings.TrimPrefix(r.srv.URL, "http://"), "https://")
	return r
}

func (r *testRegistry) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.Path)
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/blobs/") {
		r.blobGets[digest.Digest(req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:])]++
	}
	mw := r.middleware
	r.mu.Unlock()
	if mw != nil {
		mw(w, req, r.reg)
		return
	}
	r.reg.ServeHTTP(w, req)
}

func (r *testRegistry) setMiddleware(mw func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.middleware = mw
}

func (r *testRegistry) blobGetCount(d digest.Digest) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets[d]
}

func (r *testRegistry) resetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.blobGets = map[digest.Digest]int{}
	r.requests = nil
}

func (r *testRegistry) requestCount(substr string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, req := range r.requests {
		if strings.Contains(req, substr) {
			n++
		}
	}
	return n
}

// direct serves one request on the registry handler in-process.
func (r *testRegistry) direct(method, path, contentType string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://"+r.host+path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	r.reg.ServeHTTP(rec, req)
	return rec
}

func (r *testRegistry) putBlob(repo string, data []byte) digest.Digest {
	r.t.Helper()
	d := digest.FromBytes(data)
	rec := r.direct(http.MethodPost, fmt.Sprintf("/v2/%s/blobs/uploads/?digest=%s", repo, d), "application/octet-stream", data)
	if rec.Code != http.StatusCreated {
		r.t.Fatalf("upload blob %s to %s: %d %s", d, repo, rec.Code, rec.Body.String())
	}
	return d
}

func (r *testRegistry) putManifest(repo, ref, mediaType string, body []byte) digest.Digest {
	r.t.Helper()
	rec := r.direct(http.MethodPut, fmt.Sprintf("/v2/%s/manifests/%s", repo, ref), mediaType, body)
	if rec.Code != http.StatusCreated {
		r.t.Fatalf("put manifest %s:%s: %d %s", repo, ref, rec.Code, rec.Body.String())
	}
	return digest.FromBytes(body)
}

// push uploads an image and tags it (tag "" pushes by digest only). It
// returns the reference to pull it by.
func (r *testRegistry) push(repo, tag string, img testImage) string {
	r.t.Helper()
	for _, b := range img.blobs {
		r.putBlob(repo, b)
	}
	ref := tag
	if ref == "" {
		ref = img.manifestDigest.String()
	}
	r.putManifest(repo, ref, img.manifestType, img.manifest)
	if tag == "" {
		return r.host + "/" + repo + "@" + img.manifestDigest.String()
	}
	return r.host + "/" + repo + ":" + tag
}

// pushIndex uploads images and a multi-arch index of them under tag.
func (r *testRegistry) pushIndex(repo, tag, indexType string, imgs ...testImage) (string, digest.Digest) {
	r.t.Helper()
	idx := struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Manifests     []ocispec.Descriptor `json:"manifests"`
	}{SchemaVersion: 2, MediaType: indexType}
	for _, img := range imgs {
		r.push(repo, "", img)
		idx.Manifests = append(idx.Manifests, ocispec.Descriptor{
			MediaType: img.manifestType, Digest: img.manifestDigest, Size: int64(len(img.manifest)), Platform: img.platform,
		})
	}
	body := mustJSON(r.t, idx)
	d := r.putManifest(repo, tag, indexType, body)
	return r.host + "/" + repo + ":" + tag, d
}

// tarEntry describes one entry of a hand-made layer.
type tarEntry struct {
	name     string
	typ      byte
	body     string
	mode     int64
	link     string
	uid, gid int
	major    int64
	minor    int64
	xattrs   map[string]string
	mtime    time.Time
}

var testMtime = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

func file(name, body string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeReg, body: body, mode: 0o644}
}
func dir(name string) tarEntry { return tarEntry{name: name, typ: tar.TypeDir, mode: 0o755} }
func symlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeSymlink, link: target, mode: 0o777}
}
func hardlink(name, target string) tarEntry {
	return tarEntry{name: name, typ: tar.TypeLink, link: target, mode: 0o644}
}

func makeTar(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mtime := e.mtime
		if mtime.IsZero() {
			mtime = testMtime
		}
		hdr := &tar.Header{
			Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link, Uid: e.uid, Gid: e.gid,
			Size: int64(len(e.body)), ModTime: mtime, Devmajor: e.major, Devminor: e.minor, Format: tar.FormatPAX,
		}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		for k, v := range e.xattrs {
			if hdr.PAXRecords == nil {
				hdr.PAXRecords = map[string]string{}
			}
			hdr.PAXRecords[paxXattrPrefix+k] = v
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %s: %v", e.name, err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// layer is a layer tar and how to compress it: "gzip", "zstd" or "none".
type layer struct {
	tar         []byte
	compression string
}

func gzipLayer(t *testing.T, entries ...tarEntry) layer {
	return layer{tar: makeTar(t, entries...), compression: "gzip"}
}

func compressLayer(t *testing.T, l layer) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch l.compression {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(l.tar)
		zw.Close()
	case "zstd":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(l.tar)
		zw.Close()
	case "none":
		buf.Write(l.tar)
	default:
		t.Fatalf("compression %q", l.compression)
	}
	return buf.Bytes()
}

// testImage is a hand-built image ready to push.
type testImage struct {
	manifest       []byte
	manifestType   string
	manifestDigest digest.Digest
	config         []byte
	configDigest   digest.Digest
	layerBlobs     []digest.Digest
	layerSizes     []int64
	diffIDs        []digest.Digest
	blobs          [][]byte // config and layers
	platform       *ocispec.Platform
}

func (img testImage) id() string { return img.configDigest.String() }

func (img testImage) size() uint64 {
	n := uint64(len(img.manifest) + len(img.config))
	for _, s := range img.layerSizes {
		n += uint64(s)
	}
	return n
}

type imageOpts struct {
	format   string // "oci" or "docker"
	platform *ocispec.Platform
	env      []string
	// diffIDs, when set, replaces the true ones in the config.
	diffIDs []digest.Digest
}

func buildImage(t *testing.T, o imageOpts, layers ...layer) testImage {
	t.Helper()
	img := testImage{platform: o.platform}
	var descs []ocispec.Descriptor
	for _, l := range layers {
		blob := compressLayer(t, l)
		mt := map[string]string{"gzip": ocispec.MediaTypeImageLayerGzip, "zstd": ocispec.MediaTypeImageLayerZstd, "none": ocispec.MediaTypeImageLayer}[l.compression]
		if o.format == "docker" {
			mt = "application/vnd.docker.image.rootfs.diff.tar.gzip"
		}
		d := digest.FromBytes(blob)
		descs = append(descs, ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(blob))})
		img.blobs = append(img.blobs, blob)
		img.layerBlobs = append(img.layerBlobs, d)
		img.layerSizes = append(img.layerSizes, int64(len(blob)))
		img.diffIDs = append(img.diffIDs, digest.FromBytes(l.tar))
	}
	cfg := ocispec.Image{
		RootFS: ocispec.RootFS{Type: "layers", DiffIDs: img.diffIDs},
		Config: ocispec.ImageConfig{Env: o.env, Cmd: []string{"/bin/sh"}, User: "1000", WorkingDir: "/work"},
	}
	if o.diffIDs != nil {
		cfg.RootFS.DiffIDs = o.diffIDs
	}
	if o.platform != nil {
		cfg.Platform = *o.platform
	}
	img.config = mustJSON(t, cfg)
	img.configDigest = digest.FromBytes(img.config)
	img.blobs = append(img.blobs, img.config)

	manifestType, configType := ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageConfig
	if o.format == "docker" {
		manifestType, configType = mediaTypeDockerManifest, mediaTypeDockerConfig
	}
	man := struct {
		SchemaVersion int                  `json:"schemaVersion"`
		MediaType     string               `json:"mediaType"`
		Config        ocispec.Descriptor   `json:"config"`
		Layers        []ocispec.Descriptor `json:"layers"`
	}{2, manifestType, ocispec.Descriptor{MediaType: configType, Digest: img.configDigest, Size: int64(len(img.config))}, descs}
	img.manifest = mustJSON(t, man)
	img.manifestType = manifestType
	img.manifestDigest = digest.FromBytes(img.manifest)
	return img
}

// simpleImage is a one-layer OCI image whose file content tells it apart.
func simpleImage(t *testing.T, content string) testImage {
	return buildImage(t, imageOpts{format: "oci", env: []string{"ID=" + content}},
		gzipLayer(t, dir("etc/"), file("etc/id", content)))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestStore opens a store in a fresh directory, closed when the test
// ends.
func newTestStore(t *testing.T, opts Options) *Store {
	t.Helper()
	requireRoot(t)
	if opts.Root == "" {
		opts.Root = t.TempDir()
	}
	if opts.Platform == nil {
		opts.Platform = &amd64
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var amd64 = v1Platform("linux", "amd64", "")

func v1Platform(os, arch, variant string) v1.Platform {
	return v1.Platform{OS: os, Architecture: arch, Variant: variant}
}

type digestT = digest.Digest

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking layers (chown, mknod, trusted xattrs) needs root")
	}
}
