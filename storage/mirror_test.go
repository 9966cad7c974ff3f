// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestMirrorIsTriedBeforeTheRegistry(t *testing.T) {
	upstream := newTestRegistry(t)
	mirror := newTestRegistry(t)
	upstream.push("team/app", "1", simpleImage(t, "from upstream"))
	fromMirror := simpleImage(t, "from mirror")
	mirror.push("team/app", "1", fromMirror)
	s := newTestStore(t, Options{Mirrors: map[string][]string{upstream.host: {"http://" + mirror.host}}})

	ref := upstream.host + "/team/app:1"
	got, err := s.Pull(context.Background(), ref, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if got.ID != fromMirror.id() {
		t.Errorf("pulled %s, want the mirror's image %s", got.ID, fromMirror.id())
	}
	if !slices.Equal(got.RepoTags, []string{ref}) || got.RepoDigests[0] != upstream.host+"/team/app@"+fromMirror.manifestDigest.String() {
		t.Errorf("names = %v %v; want the original registry's name, not the mirror's", got.RepoTags, got.RepoDigests)
	}
	if n := upstream.requestCount("/v2/team/app/"); n != 0 {
		t.Errorf("upstream got %d requests although the mirror had the image", n)
	}
}

func TestDockerHubMirrorKeepsDockerHubNames(t *testing.T) {
	mirror := newTestRegistry(t)
	img := simpleImage(t, "busybox")
	mirror.push("library/busybox", "latest", img)
	s := newTestStore(t, Options{Mirrors: map[string][]string{"docker.io": {"http://" + mirror.host}}})

	got, err := s.Pull(context.Background(), "busybox", nil)
	if err != nil {
		t.Fatalf("Pull(busybox): %v", err)
	}
	if !slices.Equal(got.RepoTags, []string{"docker.io/library/busybox:latest"}) ||
		!slices.Equal(got.RepoDigests, []string{"docker.io/library/busybox@" + img.manifestDigest.String()}) {
		t.Errorf("names = %v %v", got.RepoTags, got.RepoDigests)
	}
	for _, q := range []string{"busybox", "busybox:latest", "docker.io/library/busybox", "library/busybox:latest"} {
		if found, err := s.Get(q); err != nil || found.ID != got.ID {
			t.Errorf("Get(%q) = %s, %v", q, found.ID, err)
		}
	}
}

func TestFailingMirrorsFallThroughToTheRegistry(t *testing.T) {
	upstream := newTestRegistry(t)
	img := simpleImage(t, "upstream")
	ref := upstream.push("app", "1", img)

	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer broken.Close()
	empty := newTestRegistry(t) // answers manifest unknown
	closed := closedPort(t)

	s := newTestStore(t, Options{Mirrors: map[string][]string{upstream.host: {
		"http://" + closed, broken.URL, "http://" + empty.host,
	}}})
	got, err := s.Pull(context.Background(), ref, nil)
	if err != nil || got.ID != img.id() {
		t.Fatalf("Pull = %s, %v; want the upstream image", got.ID, err)
	}
	if empty.requestCount("/manifests/") == 0 {
		t.Errorf("the last mirror was not tried")
	}
}

func TestNotFoundOnEveryEndpointIsNotFound(t *testing.T) {
	upstream := newTestRegistry(t)
	mirror := newTestRegistry(t)
	upstream.push("app", "1", simpleImage(t, "x"))
	s := newTestStore(t, Options{Mirrors: map[string][]string{upstream.host: {"http://" + mirror.host}}})
	_, err := s.Pull(context.Background(), upstream.host+"/app:2", nil)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pull = %v, want ErrNotFound", err)
	}
}

func TestMirrorConfigIsChecked(t *testing.T) {
	for _, bad := range []string{"ftp://mirror", "http://", "https://mirror.example/some/path"} {
		if _, err := Open(Options{Root: t.TempDir(), Mirrors: map[string][]string{"docker.io": {bad}}}); err == nil {
			t.Errorf("Open accepted mirror %q", bad)
		}
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestPlainHTTPOnlyToLoopbackInsecureHostsAndHTTPMirrors(t *testing.T) {
	tr, err := newHostTransport(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Refused before any name lookup or connection is attempted.
	req := httptest.NewRequest(http.MethodGet, "http://registry.invalid:5000/v2/", nil)
	if _, err := tr.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("plain HTTP to a remote host = %v, want it refused", err)
	}
}
