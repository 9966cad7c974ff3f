// SPDX-License-Identifier: Apache-2.0

// Package images builds, fully offline and deterministically, every
// container image podshim's tests and critest v1.37.0 pull.
//
// The images are made from files already on a Debian machine (Debian's
// dynamically linked busybox and the shared libraries it loads) plus small
// Go stand-ins for nginx, httpd, nonewprivs, pause, pgrep and ipcs, which
// are compiled from the sources under standins/ while the images are built.
// Every tar entry has a fixed timestamp and owner and entries are sorted, so
// the same Debian packages and Go toolchain give the same bytes and digests
// on every run and every machine.
//
// CRITestSet returns the images under the repository paths critest names
// with their registry host dropped (the runtime under test mirrors
// registry.k8s.io, gcr.io, k8s.gcr.io, docker.io and public.ecr.aws to one
// loopback registry); NodeSet adds those of the Kubernetes node conformance
// specs, with Kubernetes' own agnhost and nnp programs; Busybox, BusyboxZstd
// and WithLayer serve podshim's own end-to-end tests.
package images
