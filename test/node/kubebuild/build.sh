#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the Kubernetes binaries the node tests run — kubelet, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl — and etcd, from the Go
# module proxy, at pinned versions, into a cache directory outside the tree.
#
# k8s.io/kubernetes cannot be built with `go install pkg@version`: its go.mod
# points every k8s.io/* module at ./staging, which the module zip does not
# carry. So this writes a scratch module that requires k8s.io/kubernetes and
# replaces each staged module with its published v0.Y.Z tag (the list is read
# from that version's own go.mod), then builds the commands from there.
#
# etcd comes from the same scratch module through a three-line main around
# go.etcd.io/etcd/server/v3/etcdmain, at the version k8s.io/kubernetes itself
# requires, so server and client agree.
#
# Usage: build.sh OUT_DIR [e2e_node]
#   KUBE_VERSION (default v1.37.2) selects the release.
#   With e2e_node, also builds the node conformance test binary and the
#   agnhost and nnp programs of its test images, and the ginkgo CLI.
set -euo pipefail

out=${1:?usage: build.sh OUT_DIR [e2e_node]}
want_e2e=${2:-}
version=${KUBE_VERSION:-v1.37.2}
go=${GO:-go}

minor=${version#v1.}
minor=${minor%%.*}
patch=${version##*.}
staging_version="v0.${minor}.${patch}"

src="$out/src"
bin="$out/bin"
mkdir -p "$src/etcd" "$bin"

kmod=$(cd "$src" 2>/dev/null && $go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
[ -n "$kmod" ] || { echo "kubebuild: cannot download k8s.io/kubernetes@$version" >&2; exit 1; }

# The staged modules: every `k8s.io/X => ./staging/src/k8s.io/X` replace.
staged=$(sed -n 's|^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*|\1|p' "$kmod")
[ -n "$staged" ] || { echo "kubebuild: no staging replaces in $kmod" >&2; exit 1; }

if [ ! -f "$src/.version" ] || [ "$(cat "$src/.version")" != "$version" ]; then
  rm -f "$src/go.mod" "$src/go.sum"
  {
    echo "module podshim.local/kubebuild"
    echo
    echo "go $($go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/')"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    echo "replace ("
    for m in $staged; do echo "	$m => $m $staging_version"; done
    echo ")"
    echo
    echo "tool ("
    for c in kubelet kube-apiserver kube-controller-manager kube-scheduler kubectl; do
      echo "	k8s.io/kubernetes/cmd/$c"
    done
    echo ")"
  } > "$src/go.mod"
  cat > "$src/etcd/main.go" <<'EOF'
// SPDX-License-Identifier: Apache-2.0

// Command etcd is etcd's own server main, built at the version
// k8s.io/kubernetes requires.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  (cd "$src" && $go mod tidy)
  echo "$version" > "$src/.version"
fi

pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor \
 -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z \
 -X k8s.io/client-go/pkg/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=$minor"

cd "$src"
CGO_ENABLED=0 $go build -trimpath -ldflags "$ldflags" -o "$bin/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl ./etcd

if [ "$want_e2e" = e2e_node ]; then
  # A test-only package of a dependency: -mod=mod lets the go command add
  # the requirements its tests need that tidy does not see. agnhost and
  # nnp are the programs of the e2e-test-images/agnhost and nonewprivs
  # images, from the same module at the same version; test/images puts
  # them into the offline registry's images (test-registry --kube-bin).
  CGO_ENABLED=0 GOFLAGS=-mod=mod $go test -c -trimpath -ldflags "$ldflags" \
    -o "$bin/e2e_node.test" k8s.io/kubernetes/test/e2e_node
  CGO_ENABLED=0 GOFLAGS=-mod=mod $go build -trimpath -ldflags "$ldflags" \
    -o "$bin/agnhost" k8s.io/kubernetes/test/images/agnhost
  CGO_ENABLED=0 GOFLAGS=-mod=mod $go build -trimpath -ldflags "-s -w" \
    -o "$bin/nnp" k8s.io/kubernetes/test/images/nonewprivs
  # agnhost's image carries porter's test certificate at /localhost.crt and
  # /localhost.key (the https lifecycle hook specs serve with them).
  kdir=$($go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  mkdir -p "$bin/agnhost-files"
  cp "$kdir/test/images/agnhost/porter/localhost.crt" "$kdir/test/images/agnhost/porter/localhost.key" "$bin/agnhost-files/"
  chmod 0644 "$bin/agnhost-files/"*
  # The ginkgo CLI runs the suite's specs in parallel processes; its version
  # is the library's that k8s.io/kubernetes requires.
  ginkgo_version=$(sed -n 's|^\s*github.com/onsi/ginkgo/v2 \(v[^ ]*\).*|\1|p' "$kmod" | head -1)
  [ -n "$ginkgo_version" ] || { echo "kubebuild: no ginkgo requirement in $kmod" >&2; exit 1; }
  GOBIN="$bin" CGO_ENABLED=0 GOFLAGS=-mod=readonly $go install "github.com/onsi/ginkgo/v2/ginkgo@$ginkgo_version"
fi
echo "$version" > "$bin/.version"
