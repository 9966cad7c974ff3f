// SPDX-License-Identifier: Apache-2.0

// Package e2e drives a real one-node Kubernetes cluster whose node runs
// podshim (test/node/cluster), through the API server with kubectl, and
// asserts what a cluster user sees. It needs root, and the binaries that
// `make node-e2e` builds, named by the environment:
//
//	KUBE_BIN      kubelet, kube-apiserver, ..., kubectl and etcd
//	PODSHIM_BIN   bin/podshim (its monitor, pause, runc and CNI plugins beside it)
//	REGISTRY_BIN  bin/test-registry
//	CRICTL_BIN    bin/crictl
//	NODE_E2E_RESULTS  where the components' logs are copied at the end
//
// Two runs can share the machine if each names its own node resources:
// NODE_E2E_BRIDGE, NODE_E2E_SUBNET (an IPv4 /16) and NODE_E2E_CGROUP_ROOT.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/podshim/podshim/test/node/cluster"
)

// node is the cluster every test of the package shares: bringing one up
// takes tens of seconds, and each test works in a namespace of its own.
var node *cluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("node e2e: skipped: a node runs as root, and these tests run a real one")
		return 0
	}
	kubeBin := os.Getenv("KUBE_BIN")
	if kubeBin == "" {
		fmt.Println("node e2e: skipped: KUBE_BIN is not set (make node-e2e builds the Kubernetes binaries and sets it)")
		return 0
	}
	dir, err := os.MkdirTemp("", "podshim-node.")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	node, err = cluster.Start(ctx, cluster.Options{
		KubeBin:    kubeBin,
		Podshim:    os.Getenv("PODSHIM_BIN"),
		Registry:   os.Getenv("REGISTRY_BIN"),
		Crictl:     os.Getenv("CRICTL_BIN"),
		Dir:        dir,
		Bridge:     os.Getenv("NODE_E2E_BRIDGE"),
		Subnet:     os.Getenv("NODE_E2E_SUBNET"),
		CgroupRoot: os.Getenv("NODE_E2E_CGROUP_ROOT"),
		// The image GC test needs an image filesystem cAdvisor can measure.
		ImageFsSize: 1 << 30,
		PrePull:     gcImages,
		// NODE_E2E_FEATURE_GATES="EventedPLEG=true,...": a run with
		// kubelet feature gates (make node-e2e-evented).
		FeatureGates: featureGates(os.Getenv("NODE_E2E_FEATURE_GATES")),
		// NRI on, so every test runs through it and nri_test.go can
		// connect a plugin.
		NRISocket: filepath.Join(dir, "nri.sock"),
		// NODE_E2E_KUBELET_V=4 logs the events the kubelet receives.
		KubeletVerbosity: atoiOr(os.Getenv("NODE_E2E_KUBELET_V"), 2),
	})
	if err != nil {
		saveLogs(dir)
		fmt.Println("node e2e:", err)
		return 1
	}
	// An interrupted run still takes the cluster down.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		node.Stop()
		saveLogs(dir)
		os.Exit(2)
	}()
	code := m.Run()
	node.Stop()
	saveLogs(dir)
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Println("node e2e: work dir kept:", dir)
	}
	return code
}

// saveLogs copies the components' logs where the Makefile asked.
func saveLogs(dir string) {
	out := os.Getenv("NODE_E2E_RESULTS")
	if out == "" {
		return
	}
	_ = os.MkdirAll(out, 0o755)
	_ = os.RemoveAll(filepath.Join(out, "logs"))
	_ = exec.Command("cp", "-r", filepath.Join(dir, "logs"), out).Run()
}
