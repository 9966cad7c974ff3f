#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds podshim's node image (the Dockerfile at the repository's root) with
# no image registry: the Debian base is made here with debootstrap from the
# host's own apt mirror and imported into buildah, the builder image is that
# base plus the host's Go toolchain, and the host's Go module cache is bound
# into the build read-only. Run as root (debootstrap, buildah).
#
# Usage: build.sh [IMAGE]        (default localhost/podshim-node:VERSION)
#   VERSION          the version built in (default: git describe, as make does)
#   NODEIMAGE_CACHE  where the base tarball, buildah's storage and the Go
#                    build cache live between runs
#                    (default $HOME/.cache/podshim/nodeimage)
#   GO               the Go command (default go)
#
# buildah runs with its own storage under NODEIMAGE_CACHE (--root), so it
# never touches /var/lib/containers/storage, and with chroot isolation and
# the host's network: no OCI runtime is involved (crun refuses this project's
# hybrid cgroup CI host) and no container network or bridge is created.
# Whatever buildah still creates at the system's paths is removed at the end
# if it was not there before.
#
# Prints, last, the lines BUILDAH=..., IMAGE=..., VERSION=... for a caller.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
version=${VERSION:-$(git -C "$repo" describe --tags --always --dirty 2>/dev/null || echo dev)}
image=${1:-localhost/podshim-node:$version}
cache=${NODEIMAGE_CACHE:-$HOME/.cache/podshim/nodeimage}
go=${GO:-go}
suite=bookworm

log() { echo "nodeimage: $*" >&2; }
[ "$(id -u)" = 0 ] || { log "needs root (debootstrap, buildah)"; exit 1; }

# --- tools: installed from Debian's packages when missing ----------------
missing=""
for p in debootstrap buildah; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  log "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # shellcheck disable=SC2086
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing >&2
fi

# Paths buildah creates outside its --root whatever it is told; removed at
# the end unless they were already there (someone else's).
strays=(/var/lib/containers/cache /run/containers/networks /etc/containers/networks /var/tmp/buildah-cache-0)
ours=()
for p in "${strays[@]}"; do [ -e "$p" ] || ours+=("$p"); done
runroot=/run/podshim-nodeimage
[ -e "$runroot" ] || ours+=("$runroot")
cleanup() {
  for p in "${ours[@]}"; do
    if [ "$p" = "$runroot" ] && grep -q " $runroot/" /proc/self/mountinfo; then
      continue # a container of ours is still mounted: leave its state
    fi
    rm -rf "$p"
  done
  rmdir /run/containers /var/lib/containers 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$cache/gocache" "$cache/storage"
buildah=(buildah --root "$cache/storage" --runroot "$runroot" --storage-driver overlay)

# --- the Debian base, from the host's mirror -----------------------------
# The first Debian archive the host's apt sources use for $suite, and the
# security archive beside it, in either source format (one-line .list or
# deb822 .sources). Disabled files (other suffixes) are not read.
sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources) awk '
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { if (uris != "" && types ~ /(^| )deb( |$)/) for (i in u) for (j in s) print u[i], s[j]; uris = ""; types = ""; delete u; delete s; next }
        tolower($1) == "types:" { types = $0; sub(/^[^:]*:[ \t]*/, "", types) }
        tolower($1) == "uris:" { uris = $0; sub(/^[^:]*:[ \t]*/, "", uris); n = split(uris, u, /[ \t]+/) }
        tolower($1) == "suites:" { v = $0; sub(/^[^:]*:[ \t]*/, "", v); split(v, s, /[ \t]+/) }
        END { if (uris != "" && types ~ /(^| )deb( |$)/) for (i in u) for (j in s) print u[i], s[j] }' "$f" ;;
      *) sed -n 's/^[ \t]*deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([^ \t]\+\)[ \t]\+\([^ \t]\+\).*/\2 \3/p' "$f" ;;
    esac
  done
}
mirror=$(sources | awk -v s="$suite" '$2 == s { print $1; exit }')
security=$(sources | awk -v s="$suite-security" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || { log "no apt source for Debian $suite in /etc/apt/sources.list{,.d}"; exit 1; }
mirror=${mirror%/}

base_tar="$cache/debian-$suite-minbase.tar"
if [ ! -s "$base_tar" ]; then
  log "debootstrap $suite (minbase) from $mirror"
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >&2
  # The image's apt sources: the same archives as the host's.
  rm -f "$rootfs/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" "$suite" "$suite"
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${security%/}" "$suite"
    fi
  } > "$rootfs/etc/apt/sources.list.d/debian.sources"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/root/.bash_history
  : > "$rootfs/etc/machine-id"
  tar -C "$rootfs" --numeric-owner --xattrs -cf "$base_tar.tmp" .
  rm -rf "$rootfs"
  mv "$base_tar.tmp" "$base_tar"
  # A new base: the images made from the old one go.
  "${buildah[@]}" rmi -f localhost/podshim-debian:$suite >/dev/null 2>&1 || true
fi

base_image=localhost/podshim-debian:$suite
if ! "${buildah[@]}" inspect --type image "$base_image" >/dev/null 2>&1; then
  log "importing $base_tar as $base_image"
  c=$("${buildah[@]}" from scratch)
  "${buildah[@]}" add "$c" "$base_tar" / >/dev/null
  "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd /bin/bash "$c"
  "${buildah[@]}" commit --rm -q "$c" "$base_image" >/dev/null
fi

# --- the builder image: the base plus the host's Go toolchain ------------
goroot=$($go env GOROOT)
goversion=$($go env GOVERSION)
builder_image=localhost/podshim-golang:${goversion#go}-$suite
if ! "${buildah[@]}" inspect --type image "$builder_image" >/dev/null 2>&1; then
  log "making $builder_image from $base_image and $goroot"
  c=$("${buildah[@]}" from "$base_image")
  "${buildah[@]}" copy "$c" "$goroot" /usr/local/go >/dev/null
  "${buildah[@]}" config --env PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  "${buildah[@]}" commit --rm -q "$c" "$builder_image" >/dev/null
fi

# --- the module cache: complete on the host, bound read-only -------------
# The host downloads (with its own network and CA bundle: this machine's
# HTTPS goes through a TLS-inspecting proxy the builder would not trust);
# the build then runs with GOPROXY=off.
(cd "$repo" && $go mod download)
modcache=$($go env GOMODCACHE)

log "building $image (version $version)"
start=$SECONDS
"${buildah[@]}" build --isolation chroot --network host --layers \
  --build-arg GO_VERSION="${goversion#go}" \
  --build-arg BUILDER_IMAGE="$builder_image" \
  --build-arg BASE_IMAGE="$base_image" \
  --build-arg VERSION="$version" \
  --build-arg GOPROXY=off \
  --build-arg GOMODCACHE=/host/gomodcache \
  --build-arg GOCACHE=/host/gocache \
  --volume "$modcache:/host/gomodcache:ro" \
  --volume "$cache/gocache:/host/gocache" \
  -f "$repo/Dockerfile" -t "$image" "$repo" >&2
log "built $image in $((SECONDS - start))s"

echo "BUILDAH=${buildah[*]}"
echo "IMAGE=$image"
echo "VERSION=$version"
