// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Entry is one repository's worth of a test set: the same image or index
// published under each of Tags.
type Entry struct {
	// Repo is the repository path without a registry host, e.g.
	// "e2e-test-images/busybox".
	Repo string
	Tags []string
	// Exactly one of Image and Index is set.
	Image v1.Image
	Index v1.ImageIndex
}

// Digest is the digest of the entry's manifest or index.
func (e Entry) Digest() (v1.Hash, error) {
	if e.Index != nil {
		return e.Index.Digest()
	}
	if e.Image != nil {
		return e.Image.Digest()
	}
	return v1.Hash{}, fmt.Errorf("entry %s has neither image nor index", e.Repo)
}

// Repository prefixes critest v1.37.0 uses, with the registry host dropped:
// registry.k8s.io/e2e-test-images/..., gcr.io/k8s-staging-cri-tools/...,
// public.ecr.aws/docker/library/..., registry.k8s.io/pause and
// k8s.gcr.io/pause (one repository, so both names are the same image), and
// docker.io/library/... for tests that use Docker Hub names.
const (
	e2eRepo     = "e2e-test-images/"
	stagingRepo = "k8s-staging-cri-tools/"
)

// busyboxTags are the tags critest's image-listing benchmark pulls
// (public.ecr.aws/docker/library/busybox:...), also published under
// e2e-test-images/busybox and Docker Hub's library/busybox.
var busyboxTags = []string{"1.35.0-glibc", "1", "1-glibc", "1-musl", "1-uclibc"}

var critestSet struct {
	once    sync.Once
	entries []Entry
	err     error
}

// CRITestSet returns every image critest v1.37.0 pulls, under the
// repository paths and tags it names. It is built once per process.
//
// Not included: gcr.io/k8s-staging-cri-tools/test-image-digest@sha256:9700f9a2...,
// which critest pulls by a digest no offline build can reproduce (its spec
// is expected to fail), and the Windows-only win-test-image-* images.
func CRITestSet() ([]Entry, error) {
	critestSet.once.Do(func() {
		b, err := sharedBuilder()
		if err != nil {
			critestSet.err = err
			return
		}
		critestSet.entries, critestSet.err = b.critestSet()
	})
	if critestSet.err != nil {
		return nil, critestSet.err
	}
	return append([]Entry(nil), critestSet.entries...), nil
}

// format is how an item is published. The set mixes Docker schema2 and OCI,
// and has one index of each kind, so both pull paths are exercised.
type format int

const (
	dockerImage format = iota
	ociImage
	dockerList // Docker manifest list: host platform + placeholder
	ociIndex   // OCI image index: host platform + placeholder
)

type item struct {
	repo   string
	tags   []string
	format format
	spec   func() (imageSpec, error)
}

func (b *builder) critestItems() []item {
	plain := func(s imageSpec) func() (imageSpec, error) {
		return func() (imageSpec, error) { return s, nil }
	}
	file := func(name string) func() (imageSpec, error) {
		return func() (imageSpec, error) { return b.withFile(name) }
	}
	user := func(u string) func() (imageSpec, error) { return plain(b.withUser(u)) }
	latest := []string{"latest"}
	return []item{
		// The default test image, published multi-platform.
		{e2eRepo + "busybox", []string{"1.29-2"}, ociIndex, plain(b.busybox())},
		{e2eRepo + "busybox", busyboxTags, dockerImage, plain(b.busybox())},
		{"docker/library/busybox", append([]string{"latest"}, busyboxTags...), ociImage, plain(b.busybox())},
		{"library/busybox", append([]string{"latest"}, busyboxTags...), dockerImage, plain(b.busybox())},
		{e2eRepo + "nginx", []string{"1.14-2"}, ociImage, b.nginx},
		{stagingRepo + "hostnet-nginx-" + b.arch, latest, dockerImage, b.hostnetNginx},
		{e2eRepo + "httpd", []string{"2.4.39-4"}, dockerImage, b.httpd},
		{e2eRepo + "nonewprivs", []string{"1.3"}, ociImage, b.nonewprivs},
		// registry.k8s.io/pause:3.9 and k8s.gcr.io/pause:3.9 both land here.
		{"pause", []string{"3.9", "3.10"}, dockerImage, b.pause},
		{stagingRepo + "test-image-1", latest, ociImage, file("test-image-1")},
		{stagingRepo + "test-image-2", latest, ociImage, file("test-image-2")},
		{stagingRepo + "test-image-3", latest, ociImage, file("test-image-3")},
		// Three tags, one image; upstream's is a Docker manifest list too.
		{stagingRepo + "test-image-tags", []string{"1", "2", "3"}, dockerList, file("same-image")},
		{stagingRepo + "test-image-latest", latest, dockerImage, file("test-image-latest")},
		// Upstream builds "test" and "all" as two different images.
		{stagingRepo + "test-image-tag", []string{"test"}, ociImage, file("test")},
		{stagingRepo + "test-image-tag", []string{"all"}, ociImage, file("all")},
		// USER values as in cri-tools' images/build script.
		{stagingRepo + "test-image-user-uid", latest, dockerImage, user("1002")},
		{stagingRepo + "test-image-user-username", latest, dockerImage, user("www-data")},
		{stagingRepo + "test-image-user-uid-group", latest, dockerImage, user("1003:1004")},
		{stagingRepo + "test-image-user-username-group", latest, dockerImage, user("www-data:1004")},
		{stagingRepo + "test-image-predefined-group", latest, ociImage, b.predefinedGroup},
	}
}

func (b *builder) critestSet() ([]Entry, error) {
	items := b.critestItems()
	set := make([]Entry, 0, len(items))
	for _, it := range items {
		e, err := b.entry(it)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", it.repo, err)
		}
		set = append(set, e)
	}
	return set, nil
}

func (b *builder) entry(it item) (Entry, error) {
	spec, err := it.spec()
	if err != nil {
		return Entry{}, err
	}
	spec.oci = it.format == ociImage || it.format == ociIndex
	img, err := spec.build()
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Repo: it.repo, Tags: it.tags, Image: img}
	if it.format == dockerList || it.format == ociIndex {
		if e.Index, err = b.multiArch(img, spec.oci); err != nil {
			return Entry{}, err
		}
		e.Image = nil
	}
	// Computing the digest now surfaces any error here rather than halfway
	// through a push.
	if _, err := e.Digest(); err != nil {
		return Entry{}, err
	}
	return e, nil
}
