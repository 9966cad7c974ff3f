// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPullFormatsAndCompressions(t *testing.T) {
	for _, tc := range []struct{ format, compression string }{
		{"docker", "gzip"},
		{"oci", "gzip"},
		{"oci", "zstd"},
		{"oci", "none"},
	} {
		t.Run(tc.format+"-"+tc.compression, func(t *testing.T) {
			reg := newTestRegistry(t)
			img := buildImage(t, imageOpts{format: tc.format},
				layer{tar: makeTar(t, dir("bin/"), file("bin/tool", "#!/bin/sh\n")), compression: tc.compression},
				layer{tar: makeTar(t, file("bin/tool2", tc.compression)), compression: tc.compression})
			ref := reg.push("fmt", "1", img)
			s := newTestStore(t, Options{})
			got, err := s.Pull(context.Background(), ref, nil)
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if got.ID != img.id() || got.Size != img.size() {
				t.Errorf("got ID %s size %d, want %s %d", got.ID, got.Size, img.id(), img.size())
			}
			dirs, err := s.LayerDirs(got.ID)
			if err != nil || len(dirs) != 2 {
				t.Fatalf("LayerDirs = %v, %v", dirs, err)
			}
			if b, err := os.ReadFile(filepath.Join(dirs[1], "bin/tool2")); err != nil || string(b) != tc.compression {
				t.Errorf("top layer file = %q, %v", b, err)
			}
		})
	}
}

func TestPullRefusesSchema1(t *testing.T) {
	reg := newTestRegistry(t)
	schema1 := []byte(`{"schemaVersion":1,"name":"old","tag":"1","architecture":"amd64","fsLayers":[],"history":[]}`)
	reg.putManifest("old", "1", mediaTypeDockerSchema1, schema1)
	s := newTestStore(t, Options{})
	_, err := s.Pull(context.Background(), reg.host+"/old:1", nil)
	if !errors.Is(err, ErrBadContent) || !strings.Contains(err.Error(), "schema 1") {
		t.Fatalf("Pull = %v, want ErrBadContent naming schema 1", err)
	}
}

func TestPullRefusesNonImageArtifacts(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "artifact")
	img.manifest = []byte(strings.Replace(string(img.manifest), "application/vnd.oci.image.config.v1+json", "application/vnd.cncf.helm.config.v1+json", 1))
	ref := reg.push("chart", "1", img)
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), ref, nil); !errors.Is(err, ErrBadContent) {
		t.Fatalf("Pull = %v, want ErrBadContent", err)
	}
}

func TestPullRefusesCorruptLayerBlob(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "corrupt")
	ref := reg.push("bad", "1", img)
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+img.layerBlobs[0].String()) {
			// Same length, other bytes.
			w.Write(make([]byte, img.layerSizes[0]))
			return
		}
		next.ServeHTTP(w, r)
	})
	s := newTestStore(t, Options{})
	_, err := s.Pull(context.Background(), ref, nil)
	if !errors.Is(err, ErrBadContent) || !strings.Contains(err.Error(), img.layerBlobs[0].String()) {
		t.Fatalf("Pull = %v, want ErrBadContent naming the blob", err)
	}
	if s.blobs.has(img.layerBlobs[0]) {
		t.Errorf("the corrupt blob was stored")
	}
	assertNoContent(t, s)
}

func TestPullRefusesWrongDiffID(t *testing.T) {
	reg := newTestRegistry(t)
	l := gzipLayer(t, file("a", "a"))
	wrong := gzipLayer(t, file("b", "b"))
	img := buildImage(t, imageOpts{format: "oci", diffIDs: []digestT{digestOf(wrong.tar)}}, l)
	ref := reg.push("diffid", "1", img)
	s := newTestStore(t, Options{})
	_, err := s.Pull(context.Background(), ref, nil)
	if !errors.Is(err, ErrBadContent) {
		t.Fatalf("Pull = %v, want ErrBadContent", err)
	}
	assertNoContent(t, s)
}
