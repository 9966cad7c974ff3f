# SPDX-License-Identifier: Apache-2.0
#
# podshim's two commands for a new user, on Debian/Ubuntu as root:
#   make run    install what is missing, build, start the daemon
#   make test   run every test this machine can run

SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

# cri-tools (crictl, critest) is not a library of ours, so it is pinned here
# rather than in go.mod; runc and the CNI plugins are pinned in go.mod.
CRI_TOOLS_VERSION := v1.37.0
# The Kubernetes release the node tests run (kubelet, control plane, kubectl,
# and the etcd it requires): the one matching our cri-api. Built from the
# module proxy into a cache outside the tree, shared by every clone.
KUBE_VERSION := v1.37.2
KUBE_CACHE ?= $(HOME)/.cache/podshim/kubernetes-$(KUBE_VERSION)
KUBE_BIN := $(KUBE_CACHE)/bin
# The reference runtime make bench measures podshim against, side by side:
# containerd and its runc shim from the module proxy, into a cache outside
# the tree; it runs our pinned runc and CNI plugins.
CONTAINERD_VERSION := v2.4.2
CONTAINERD_CACHE ?= $(HOME)/.cache/podshim/containerd-$(CONTAINERD_VERSION)
CONTAINERD_BIN := $(CONTAINERD_CACHE)/bin
RUNC_VERSION = $(shell $(GO) list -m -f '{{.Version}}' github.com/opencontainers/runc)
CNI_PLUGINS := bridge loopback host-local portmap
CNI_PKG_bridge := github.com/containernetworking/plugins/plugins/main/bridge
CNI_PKG_loopback := github.com/containernetworking/plugins/plugins/main/loopback
CNI_PKG_host-local := github.com/containernetworking/plugins/plugins/ipam/host-local
CNI_PKG_portmap := github.com/containernetworking/plugins/plugins/meta/portmap

# System packages. To build: a C toolchain and libseccomp for runc's seccomp
# support, musl-tools for the static pause binary; the node image's builder
# stage installs exactly these (Dockerfile: make deps APT_PACKAGES=...).
# To run and test: iptables for portmap, busybox for the offline test images,
# e2fsprogs for the node tests' loop-mounted image filesystem, netcat-openbsd
# for the node images' agnhost stand-in (its nc), criu for checkpoint/restore,
# crun for the second runtime handler.
BUILD_APT_PACKAGES := gcc libc6-dev pkg-config libseccomp-dev musl-tools
APT_PACKAGES := $(BUILD_APT_PACKAGES) iptables iproute2 busybox e2fsprogs netcat-openbsd criu crun

GO_SOURCES := $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum

.PHONY: all build run test unit e2e e2e-crun conformance node-e2e node-e2e-cri-stats kube deps tools cri-tools install uninstall clean fmt vet bench

all: build

## deps: install the system packages podshim and its tests need (apt-get)
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $$missing; \
	fi

## build: the daemon at bin/podshim, its lean per-pod monitor and the pods' infra process
build: $(BIN)/podshim $(BIN)/podshim-monitor $(BIN)/pause

# nri_no_wasm: NRI's WASM plugin runtime stays out (megabytes, for a rare
# kind of plugin); socket and directory plugins work.
$(BIN)/podshim: $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -tags nri_no_wasm -ldflags "-s -w -X main.version=$(VERSION)" -o $@ ./cmd/podshim

$(BIN)/podshim-monitor: $(GO_SOURCES)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $@ ./cmd/podshim-monitor

# pause is C built against musl, statically: a few KiB, no libraries, no image.
$(BIN)/pause: sandbox/pause/pause.c | deps
	@mkdir -p $(BIN)
	musl-gcc -static -Os -s -Wall -Werror -o $@ $<

## install: podshim, its monitor, pause, runc, crun-hybrid and the CNI plugins into $(PREFIX)/lib/podshim (with
## $(PREFIX)/bin/podshim linking there), the systemd unit, and /etc/podshim/config.toml and
## /etc/crictl.yaml when none exist. DESTDIR stages the whole tree elsewhere (packaging, tests).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# Everything podshim runs sits beside it there, where it looks first, so
# podshim's runc and plugins never replace a runc or /opt/cni/bin that
# another runtime on the node uses.
PODSHIM_LIBDIR = $(PREFIX)/lib/podshim
install: build tools
	install -d $(DESTDIR)$(PODSHIM_LIBDIR)/cni $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/podshim
	@# install(1) replaces each file by a new inode: a running daemon and its
	@# pods' monitors keep the binaries they started from.
	install -m 0755 $(BIN)/podshim $(BIN)/podshim-monitor $(BIN)/pause $(BIN)/runc $(BIN)/crun-hybrid $(DESTDIR)$(PODSHIM_LIBDIR)/
	install -m 0755 $(addprefix $(BIN)/cni/,$(CNI_PLUGINS)) $(DESTDIR)$(PODSHIM_LIBDIR)/cni/
	ln -sfn ../lib/podshim/podshim $(DESTDIR)$(PREFIX)/bin/podshim
	sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' cmd/podshim/podshim.service > $(BIN)/podshim.service
	install -m 0644 $(BIN)/podshim.service $(DESTDIR)$(SYSTEMDUNITDIR)/podshim.service
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/podshim/config.toml ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/podshim/config.toml"; \
	else \
	  $(BIN)/podshim config default > $(BIN)/config.toml && \
	  install -m 0644 $(BIN)/config.toml $(DESTDIR)$(SYSCONFDIR)/podshim/config.toml && \
	  echo "wrote $(DESTDIR)$(SYSCONFDIR)/podshim/config.toml"; \
	fi
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/crictl.yaml ]; then \
	  echo "keeping $(DESTDIR)$(SYSCONFDIR)/crictl.yaml"; \
	else \
	  printf 'runtime-endpoint: unix:///run/podshim/podshim.sock\nimage-endpoint: unix:///run/podshim/podshim.sock\ntimeout: 10\n' > $(BIN)/crictl.yaml && \
	  install -m 0644 $(BIN)/crictl.yaml $(DESTDIR)$(SYSCONFDIR)/crictl.yaml && \
	  echo "wrote $(DESTDIR)$(SYSCONFDIR)/crictl.yaml"; \
	fi

## uninstall: remove what install put in place, except the two files under /etc and all data
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/podshim $(DESTDIR)$(SYSTEMDUNITDIR)/podshim.service
	rm -rf $(DESTDIR)$(PODSHIM_LIBDIR)

## tools: runc and the CNI plugins at the versions go.mod pins, and the crun wrapper for hybrid cgroup hosts
tools: $(BIN)/runc $(addprefix $(BIN)/cni/,$(CNI_PLUGINS)) $(BIN)/crun-hybrid

$(BIN)/crun-hybrid: pkg/runc/crun-hybrid.sh
	@mkdir -p $(BIN)
	install -m 0755 $< $@
$(BIN)/runc: go.mod | deps
	$(GO) build -trimpath -tags "seccomp urfave_cli_no_docs" \
	  -ldflags "-X main.version=$(patsubst v%,%,$(RUNC_VERSION))" -o $@ github.com/opencontainers/runc

$(BIN)/cni/%: go.mod
	CGO_ENABLED=0 $(GO) build -trimpath -o $@ $(CNI_PKG_$*)

## cri-tools: crictl and critest at the pinned cri-tools version
cri-tools: $(BIN)/crictl $(BIN)/critest

$(BIN)/crictl:
	GOBIN=$(BIN) GOFLAGS=-mod=readonly $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@$(CRI_TOOLS_VERSION)

# critest is a Go test binary; the module zip has no vendor/, hence -mod=readonly.
$(BIN)/critest:
	dir=$$($(GO) mod download -json sigs.k8s.io/cri-tools@$(CRI_TOOLS_VERSION) | sed -n 's/^\s*"Dir": "\(.*\)",$$/\1/p'); \
	cd "$$dir" && GOFLAGS=-mod=readonly $(GO) test -c -o $@ ./cmd/critest

## kube: kubelet, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd
kube: $(KUBE_BIN)/.version

# build.sh writes .version last, so a half-done build is redone.
$(KUBE_BIN)/.version: test/node/kubebuild/build.sh
	KUBE_VERSION=$(KUBE_VERSION) GO=$(GO) test/node/kubebuild/build.sh $(KUBE_CACHE)

# With e2e_node, build.sh adds the node conformance suite, agnhost, nnp and ginkgo.
$(KUBE_BIN)/e2e_node.test: test/node/kubebuild/build.sh
	KUBE_VERSION=$(KUBE_VERSION) GO=$(GO) test/node/kubebuild/build.sh $(KUBE_CACHE) e2e_node

$(BIN)/test-registry: $(GO_SOURCES)
	$(GO) build -o $@ ./test/cmd/test-registry

## run: install what is missing, build, start the daemon in the foreground
run: deps build tools
	$(BIN)/podshim

## test: unit tests, root end-to-end tests (under runc, under crun, against a -race build), critest conformance, then a real one-node cluster
test: deps build tools unit e2e e2e-crun e2e-race faults-short conformance node-e2e node-e2e-evented node-e2e-cri-stats test-node-image

# Some unit tests need root and the CNI plugins (network/, sandbox/); make
# test runs as root on a node, and `tools` builds the plugins first.
unit: tools
	$(GO) test -count=1 ./cmd/... ./pkg/... ./storage/... ./network/... ./sandbox/... ./test/images/... ./test/registry/...

e2e: build tools $(BIN)/crictl
	PODSHIM_BIN=$(BIN)/podshim $(GO) test -count=1 -timeout 20m ./test/e2e/...

## e2e-race: the e2e suite again, against a -race build of the daemon and its monitor; any data race
## either reports (GORACE log_path) fails the run
RACE_BIN := $(BIN)/race
.PHONY: e2e-race
e2e-race: build tools $(BIN)/crictl
	rm -rf $(RACE_BIN) && mkdir -p $(RACE_BIN)
	CGO_ENABLED=1 $(GO) build -race -tags nri_no_wasm -o $(RACE_BIN)/podshim ./cmd/podshim
	CGO_ENABLED=1 $(GO) build -race -o $(RACE_BIN)/podshim-monitor ./cmd/podshim-monitor
	ln -s ../runc ../pause ../cni ../crictl ../crun-hybrid $(RACE_BIN)/
	GORACE="log_path=$(RACE_BIN)/race-report" PODSHIM_BIN=$(RACE_BIN)/podshim $(GO) test -count=1 -timeout 30m ./test/e2e/...
	@if ls $(RACE_BIN)/race-report.* >/dev/null 2>&1; then cat $(RACE_BIN)/race-report.*; echo "e2e-race: data races reported"; exit 1; fi
	@echo "e2e-race: no data race reported"

## e2e-crun: the whole e2e suite with crun as the default runtime handler
e2e-crun: build tools $(BIN)/crictl
	E2E_DEFAULT_RUNTIME=crun PODSHIM_BIN=$(BIN)/podshim $(GO) test -count=1 -timeout 20m ./test/e2e/...

## node-e2e: a one-node Kubernetes cluster on loopback whose kubelet drives podshim
node-e2e: build tools kube $(BIN)/crictl $(BIN)/test-registry
	KUBE_BIN=$(KUBE_BIN) PODSHIM_BIN=$(BIN)/podshim REGISTRY_BIN=$(BIN)/test-registry CRICTL_BIN=$(BIN)/crictl \
	  NODE_E2E_RESULTS=$(CURDIR)/test/node/results $(GO) test -count=1 -timeout 40m -parallel 6 -v ./test/node/e2e/... 2>&1 | tee test/node/results.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|node e2e)|_test.go'; exit $${PIPESTATUS[0]}

## node-e2e-evented: a short node e2e selection with the kubelet's EventedPLEG gate on (-v=4), then a
## check of the kubelet's log that it received podshim's events and kept its event stream. Not with
## TestPodshimRestart: the kubelet v1.37 retries a broken event stream 5 times with no backoff, then
## turns the fast path off for good, so a runtime restart ends the event path of the whole run.
NODE_E2E_EVENTED_RUN ?= TestEvented|TestDeployment|TestProbe|TestRestartPolicy
node-e2e-evented: build tools kube $(BIN)/crictl $(BIN)/test-registry
	rm -rf $(CURDIR)/test/node/results-evented
	KUBE_BIN=$(KUBE_BIN) PODSHIM_BIN=$(BIN)/podshim REGISTRY_BIN=$(BIN)/test-registry CRICTL_BIN=$(BIN)/crictl \
	  NODE_E2E_FEATURE_GATES=EventedPLEG=true NODE_E2E_KUBELET_V=4 NODE_E2E_RESULTS=$(CURDIR)/test/node/results-evented \
	  $(GO) test -count=1 -timeout 20m -parallel 6 -v -run '$(NODE_E2E_EVENTED_RUN)' ./test/node/e2e/... 2>&1 | tee test/node/results-evented.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|node e2e)|_test.go'; test $${PIPESTATUS[0]} -eq 0
	@log=$(CURDIR)/test/node/results-evented/logs/kubelet.log; \
	  relists=$$(grep -c 'Evented PLEG: requested pod relist after container termination' $$log); \
	  received=$$(grep -c 'container event received' $$log); \
	  echo "node-e2e-evented: the kubelet received $$received container events and relisted $$relists pods on STOPPED events"; \
	  if grep -q 'Evented PLEG: disabling container-termination fast path' $$log; then echo "node-e2e-evented: the kubelet gave up on the event stream"; exit 1; fi; \
	  test $$relists -gt 0

## node-e2e-cri-stats: the node's stats tests with the kubelet's PodAndContainerStatsFromCRI gate on:
## /stats/summary and /metrics/cadvisor then come from podshim's stats and metrics RPCs alone.
NODE_E2E_CRI_STATS_RUN ?= TestCRIStats|TestStatsSummary
node-e2e-cri-stats: build tools kube $(BIN)/crictl $(BIN)/test-registry
	rm -rf $(CURDIR)/test/node/results-cri-stats
	KUBE_BIN=$(KUBE_BIN) PODSHIM_BIN=$(BIN)/podshim REGISTRY_BIN=$(BIN)/test-registry CRICTL_BIN=$(BIN)/crictl \
	  NODE_E2E_FEATURE_GATES=PodAndContainerStatsFromCRI=true NODE_E2E_RESULTS=$(CURDIR)/test/node/results-cri-stats \
	  $(GO) test -count=1 -timeout 20m -parallel 6 -v -run '$(NODE_E2E_CRI_STATS_RUN)' ./test/node/e2e/... 2>&1 | tee test/node/results-cri-stats.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|node e2e)|_test.go'; test $${PIPESTATUS[0]} -eq 0

## conformance: critest against a podshim on temporary dirs, images from a loopback registry, once per runtime handler
conformance: build tools $(BIN)/critest $(BIN)/crictl $(BIN)/test-registry
	BIN=$(BIN) test/conformance/run.sh

## node-image: the node image (Dockerfile) as $(NODE_IMAGE), built with buildah and no registry
## (test/nodeimage/build.sh: a debootstrap base from the host's Debian mirror, the host's Go)
NODE_IMAGE ?= localhost/podshim-node:$(VERSION)
.PHONY: node-image test-node-image
node-image:
	VERSION=$(VERSION) bash test/nodeimage/build.sh $(NODE_IMAGE)

# Builds the node image, checks its version, layout and doctor, and runs a
# pod through it started as a kind-style node container.
test-node-image: build tools $(BIN)/crictl
	cd test/nodeimage && PODSHIM_NODEIMAGE_TEST=1 BIN=$(BIN) VERSION=$(VERSION) $(GO) test -count=1 -v -timeout 30m .

## node-conformance: the upstream [NodeConformance] specs of test/e2e_node against podshim, offline
.PHONY: node-conformance
node-conformance: build tools $(BIN)/crictl $(BIN)/test-registry $(KUBE_BIN)/e2e_node.test
	BIN=$(BIN) KUBE_BIN=$(KUBE_BIN) test/node/conformance/run.sh

## bench: pod-ready latency, memory per pod, daemon idle RSS, 500 pods 25 at a time with the kubelet's periodic calls timed, then podshim and containerd side by side
BENCH_PODS ?= 500
bench: build tools $(BIN)/crictl $(BIN)/critest $(BIN)/test-registry $(CONTAINERD_BIN)/containerd
	$(GO) run ./test/bench -concurrent $(BENCH_PODS) -batch 25 -containerd $(CONTAINERD_BIN) -out $(CURDIR)/test/bench/results.json

## containerd: the reference runtime of make bench (no btrfs/devmapper/zfs snapshotters: no C headers needed)
.PHONY: containerd
containerd: $(CONTAINERD_BIN)/containerd
$(CONTAINERD_BIN)/containerd:
	mkdir -p $(CONTAINERD_BIN)
	cd $(CONTAINERD_CACHE) && GOBIN=$(CONTAINERD_BIN) GOFLAGS=-mod=mod $(GO) install -tags "no_btrfs no_devmapper no_zfs" \
		github.com/containerd/containerd/v2/cmd/containerd@$(CONTAINERD_VERSION) \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$(CONTAINERD_VERSION)

## faults: pod lifecycles with the daemon (or a pod's monitor) killed -9 at a random step, then a leak sweep
FAULT_ROUNDS ?= 200
.PHONY: faults faults-short
faults: build tools $(BIN)/test-registry
	$(GO) run ./test/faults -rounds $(FAULT_ROUNDS) $(if $(FAULT_SEED),-seed $(FAULT_SEED))

# The short run make test includes.
faults-short: build tools $(BIN)/test-registry
	$(GO) run ./test/faults -rounds 15 $(if $(FAULT_SEED),-seed $(FAULT_SEED))

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) test/conformance/results
