// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestPullByTagRecordsTheImage(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "one")
	ref := reg.push("team/app", "1.0", img)
	s := newTestStore(t, Options{})

	got, err := s.Pull(context.Background(), ref, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	name := reg.host + "/team/app"
	if got.ID != img.id() {
		t.Errorf("ID = %s, want the config digest %s", got.ID, img.id())
	}
	if want := []string{name + ":1.0"}; !slices.Equal(got.RepoTags, want) {
		t.Errorf("RepoTags = %v, want %v", got.RepoTags, want)
	}
	if want := []string{name + "@" + img.manifestDigest.String()}; !slices.Equal(got.RepoDigests, want) {
		t.Errorf("RepoDigests = %v, want %v", got.RepoDigests, want)
	}
	if got.Size != img.size() {
		t.Errorf("Size = %d, want manifest+config+layers = %d", got.Size, img.size())
	}
	if got.ManifestDigest != img.manifestDigest {
		t.Errorf("ManifestDigest = %s, want %s", got.ManifestDigest, img.manifestDigest)
	}
	if !slices.Equal(got.Layers, img.diffIDs) {
		t.Errorf("Layers = %v, want diff IDs %v", got.Layers, img.diffIDs)
	}
	if string(got.ConfigJSON) != string(img.config) {
		t.Errorf("ConfigJSON differs from the config blob")
	}
	if got.Config.Config.User != "1000" || got.Config.Config.WorkingDir != "/work" || !slices.Equal(got.Config.Config.Env, []string{"ID=one"}) {
		t.Errorf("Config = %+v", got.Config.Config)
	}

	dirs, err := s.LayerDirs(got.ID)
	if err != nil {
		t.Fatalf("LayerDirs: %v", err)
	}
	if len(dirs) != 1 {
		t.Fatalf("LayerDirs = %v", dirs)
	}
	if b, err := os.ReadFile(filepath.Join(dirs[0], "etc/id")); err != nil || string(b) != "one" {
		t.Errorf("layer file etc/id = %q, %v", b, err)
	}

	// Every way of naming the image finds it.
	hex := strings.TrimPrefix(got.ID, "sha256:")
	for _, q := range []string{got.ID, hex, hex[:12], "sha256:" + hex[:16], ref, name + ":1.0", got.RepoDigests[0]} {
		found, err := s.Get(q)
		if err != nil || found.ID != got.ID {
			t.Errorf("Get(%q) = %s, %v; want %s", q, found.ID, err, got.ID)
		}
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].ID != got.ID {
		t.Errorf("List = %v, %v", list, err)
	}
}

func TestPullByDigest(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "by-digest")
	ref := reg.push("app", "", img)
	s := newTestStore(t, Options{})

	got, err := s.Pull(context.Background(), ref, nil)
	if err != nil {
		t.Fatalf("Pull(%s): %v", ref, err)
	}
	if got.ID != img.id() {
		t.Errorf("ID = %s, want %s", got.ID, img.id())
	}
	if len(got.RepoTags) != 0 {
		t.Errorf("RepoTags = %v, want none for a pull by digest", got.RepoTags)
	}
	if want := []string{ref}; !slices.Equal(got.RepoDigests, want) {
		t.Errorf("RepoDigests = %v, want %v", got.RepoDigests, want)
	}

	// A tag next to the digest is dropped, as containerd does.
	withTag := reg.host + "/app:ignored@" + img.manifestDigest.String()
	if again, err := s.Pull(context.Background(), withTag, nil); err != nil || again.ID != got.ID || len(again.RepoTags) != 0 {
		t.Errorf("Pull(%s) = %+v, %v", withTag, again, err)
	}
}

func TestPullByDigestRefusesOtherContent(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "x")
	reg.push("app", "1", img)
	other := simpleImage(t, "other")
	// Serve other's manifest under img's digest: the registry lies.
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/manifests/"+img.manifestDigest.String()) {
			w.Header().Set("Content-Type", other.manifestType)
			w.Write(other.manifest)
			return
		}
		next.ServeHTTP(w, r)
	})
	s := newTestStore(t, Options{})
	_, err := s.Pull(context.Background(), reg.host+"/app@"+img.manifestDigest.String(), nil)
	if !errors.Is(err, ErrBadContent) {
		t.Fatalf("Pull = %v, want ErrBadContent", err)
	}
	assertNoContent(t, s)
}

func TestTagMovesToTheNewImage(t *testing.T) {
	reg := newTestRegistry(t)
	s := newTestStore(t, Options{})
	first := simpleImage(t, "first")
	ref := reg.push("app", "latest", first)
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	second := simpleImage(t, "second")
	reg.push("app", "latest", second)
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ref)
	if err != nil || got.ID != second.id() {
		t.Fatalf("Get(%s) = %s, %v; want the second image", ref, got.ID, err)
	}
	old, err := s.Get(first.id())
	if err != nil {
		t.Fatalf("the first image is gone: %v", err)
	}
	if len(old.RepoTags) != 0 || len(old.RepoDigests) != 1 {
		t.Errorf("first image keeps tags %v digests %v; want no tag and its digest", old.RepoTags, old.RepoDigests)
	}
}

// assertNoContent checks that a failed pull left no blob, layer, temporary
// file or image behind (blobs may stay if verified, but none here were).
func assertNoContent(t *testing.T, s *Store) {
	t.Helper()
	for _, dir := range []string{s.layersDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}
	entries, _ := os.ReadDir(s.blobs.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temporary blob %s left behind", e.Name())
		}
	}
	if list, _ := s.List(); len(list) != 0 {
		t.Errorf("images recorded after a failed pull: %v", list)
	}
}
