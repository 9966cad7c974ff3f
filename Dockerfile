# SPDX-License-Identifier: Apache-2.0
#
# podshim's node image: podshim, podshim-monitor, pause, the pinned runc,
# crun-hybrid and the CNI plugins (bridge loopback host-local portmap), laid
# out exactly as `make install` lays them out (/usr/local/lib/podshim, with
# /usr/local/bin/podshim linking there, /etc/podshim/config.toml, the
# systemd unit), on Debian bookworm with the runtime packages podshim runs:
# libseccomp2 (runc links it), iptables and iproute2 (portmap, the default
# network's masquerade), crun (the second runtime handler), ca-certificates
# (image pulls). It serves as the runtime of a kind-style node, as a
# privileged host-pid/host-network container, or as a DaemonSet installer
# that copies /usr/local/lib/podshim onto the host; see the README, "Node
# image".
#
# Two images come in as build arguments, so that this one file builds both
# with a registry (the defaults) and with none at all:
#   BUILDER_IMAGE  Debian bookworm with a Go toolchain in /usr/local/go: the
#                  shape of the official golang image.
#   BASE_IMAGE     Debian bookworm, the base of the image shipped.
# test/nodeimage/build.sh makes both offline: the base with debootstrap from
# the host's Debian mirror, the builder as that base plus the host's own Go
# toolchain (the one go.mod's `go` line is built with here). Handing the
# toolchain over as an image, rather than binding the host's GOROOT into
# each RUN, keeps this file self-contained: nothing below depends on how
# the build is run.
#
# The Go module cache is the other thing a build needs from outside. By
# default the builder downloads modules through GOPROXY into a cache mount
# (reused by the next build). build.sh instead binds the host's module
# cache, filled by `go mod download` on the host beforehand, read-only, and
# sets GOPROXY=off and GOMODCACHE/GOCACHE to the bound directories: the
# build then needs no network but Debian's apt mirror, compiles only what
# changed, and cannot pick up a module the host did not verify against
# go.sum.
ARG GO_VERSION=1.26.8
ARG BUILDER_IMAGE=docker.io/library/golang:${GO_VERSION}-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS builder
ENV DEBIAN_FRONTEND=noninteractive PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin GOTOOLCHAIN=local
WORKDIR /src
# The build's system packages are the Makefile's BUILD_APT_PACKAGES, installed
# by its own `make deps` with the list narrowed to them: one list for the
# host and the image. make itself comes first.
COPY Makefile ./
RUN echo 'APT::Install-Recommends "false";' > /etc/apt/apt.conf.d/90podshim-norecommends && \
    apt-get update -qq && apt-get install -y -qq make && \
    make deps APT_PACKAGES='$(BUILD_APT_PACKAGES)' && \
    rm -rf /var/lib/apt/lists/*

COPY . .
# VERSION: the source has no .git here (.dockerignore), so the caller says
# which version this is (build.sh passes `git describe`).
ARG VERSION=dev
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOMODCACHE=/root/go/pkg/mod
ARG GOCACHE=/root/.cache/go-build
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOPROXY="$GOPROXY" GOMODCACHE="$GOMODCACHE" GOCACHE="$GOCACHE" GOFLAGS="-mod=readonly -buildvcs=false" \
    make install DESTDIR=/out VERSION="$VERSION" APT_PACKAGES='$(BUILD_APT_PACKAGES)'

FROM ${BASE_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="podshim node image" \
      org.opencontainers.image.description="podshim, a Kubernetes CRI runtime, with its monitor, pause, runc, crun-hybrid and CNI plugins" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/podshim/podshim" \
      org.opencontainers.image.version="${VERSION}"
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends libseccomp2 iptables iproute2 crun ca-certificates && \
    apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log
COPY --from=builder /out/ /
ENTRYPOINT ["/usr/local/bin/podshim"]
