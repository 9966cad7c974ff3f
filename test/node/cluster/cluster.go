// SPDX-License-Identifier: Apache-2.0

// Package cluster runs a real one-node Kubernetes cluster on loopback whose
// only node runs podshim: etcd, kube-apiserver (with certificates made here),
// kube-controller-manager, kube-scheduler and a kubelet with a real node's
// defaults (cgroupsPerQOS, the cgroupfs driver), plus the offline test
// registry podshim pulls every image from. Every address is 127.0.0.1; the
// pod bridge is fenced so no pod traffic leaves it.
//
// The node is cgroup v1 on this kind of machine: a kubelet of v1.35 or later
// refuses cgroup v1 unless `failCgroupV1: false`, which the harness sets and
// says so in its log.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options selects the binaries and the node's own resources, so that two
// clusters (or a cluster and another test) can share the machine.
type Options struct {
	// KubeBin holds kubelet, kube-apiserver, kube-controller-manager,
	// kube-scheduler, kubectl and etcd (test/node/kubebuild).
	KubeBin string
	// Podshim, Registry and Crictl are binaries of this tree.
	Podshim, Registry, Crictl string
	// Dir is the cluster's work directory (made if missing).
	Dir string
	// NodeName is the node's name, default 127.0.0.1: the kubelet refuses
	// a loopback --node-ip, but takes a node name that is an IP as the
	// node's InternalIP, and nothing here may use any other address. So
	// the API server reaches the kubelet (logs, exec) on loopback, and
	// every pod's hostIP is loopback too.
	NodeName string
	// Bridge and Subnet are the pod network's (default psnode0, 10.196.0.0/16).
	Bridge, Subnet string
	// CgroupRoot is the kubelet's cgroup root (default /podshim-node).
	CgroupRoot string
	// FeatureGates for the kubelet, such as "EventedPLEG": true.
	FeatureGates map[string]bool
	// KubeletConfig is extra KubeletConfiguration YAML, appended last.
	KubeletConfig string
	// KubeletVerbosity is the kubelet's --v (default 2); 4 logs each CRI
	// container event the Evented PLEG receives.
	KubeletVerbosity int
	// ImageFsSize, when not zero, puts podshim's root on a loop-mounted
	// ext4 filesystem of this many bytes (see imagefs.go).
	ImageFsSize int64
	// PrePull lists images podshim pulls before the kubelet starts, as a
	// node image would carry them: the kubelet then knows them from its
	// first image scan.
	PrePull []string
	// PodshimConfig is extra podshim TOML (top-level keys only).
	PodshimConfig string
	// NRISocket, when set, turns podshim's NRI on with plugins connecting
	// there (and none started from a directory).
	NRISocket string
}

// Cluster is a running cluster.
type Cluster struct {
	opts        Options
	pki         *pki
	logDir      string
	kubeconfig  string
	sock        string
	registry    string
	etcdURL     string
	apiPort     int
	kubeletPort int

	etcd, apiserver, controllers, scheduler, kubelet, podshim, reg *process
	fence                                                          *fence
	imageFsMounted                                                 bool
}

func (o *Options) defaults() {
	if o.NodeName == "" {
		o.NodeName = "127.0.0.1"
	}
	if o.Bridge == "" {
		o.Bridge = "psnode0"
	}
	if o.Subnet == "" {
		o.Subnet = "10.196.0.0/16"
	}
	if o.CgroupRoot == "" {
		o.CgroupRoot = "/podshim-node"
	}
}

// Start brings the whole cluster up and waits for the node to be Ready.
// On error, whatever was started is stopped again.
func Start(ctx context.Context, opts Options) (c *Cluster, err error) {
	opts.defaults()
	if err := os.MkdirAll(opts.Dir, 0o711); err != nil {
		return nil, err
	}
	// Pods with a non-root user must traverse to their volumes below Dir.
	if err := os.Chmod(opts.Dir, 0o711); err != nil {
		return nil, err
	}
	c = &Cluster{opts: opts, logDir: filepath.Join(opts.Dir, "logs"), sock: filepath.Join(opts.Dir, "podshim", "state", "podshim.sock")}
	if err := os.MkdirAll(c.logDir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			c.Stop()
			c = nil
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"certificates", c.makePKI},
		{"pod network fence", c.startFence},
		{"image filesystem", c.mountImageFs},
		{"test registry", c.startRegistry},
		{"podshim", c.startPodshim},
		{"pre-pulled images", c.prePull},
		{"etcd", c.startEtcd},
		{"kube-apiserver", c.startAPIServer},
		{"kube-controller-manager", c.startControllerManager},
		{"kube-scheduler", c.startScheduler},
		{"kubelet", c.startKubelet},
		{"node Ready", c.waitNodeReady},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.fn(ctx); err != nil {
			return c, fmt.Errorf("cluster: %s: %w (logs in %s)", s.name, err, c.logDir)
		}
		c.logf("%s up in %v", s.name, time.Since(t0).Round(time.Millisecond))
	}
	return c, nil
}

// Kubeconfig is the admin kubeconfig (user in system:masters).
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// NodeName is the node's name.
func (c *Cluster) NodeName() string { return c.opts.NodeName }

// LogDir holds each component's log.
func (c *Cluster) LogDir() string { return c.logDir }

// Socket is podshim's CRI socket.
func (c *Cluster) Socket() string { return c.sock }

// Subnet is the pod network's subnet.
func (c *Cluster) Subnet() string { return c.opts.Subnet }

// CgroupRoot is the kubelet's cgroup root.
func (c *Cluster) CgroupRoot() string { return c.opts.CgroupRoot }

// KubeletPort is the kubelet's HTTPS port on 127.0.0.1.
func (c *Cluster) KubeletPort() int { return c.kubeletPort }

// Dir is the cluster's work directory.
func (c *Cluster) Dir() string { return c.opts.Dir }

// Kubectl runs kubectl against the cluster and returns its stdout.
func (c *Cluster) Kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.opts.KubeBin, "kubectl"), append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// KubectlCommand returns an unstarted kubectl command, for streams.
func (c *Cluster) KubectlCommand(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, filepath.Join(c.opts.KubeBin, "kubectl"), append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
}

// Crictl runs crictl against podshim and returns its stdout.
func (c *Cluster) Crictl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.opts.Crictl, append([]string{"--runtime-endpoint", "unix://" + c.sock, "--image-endpoint", "unix://" + c.sock, "--timeout", "30s"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("crictl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// Stop ends every component, newest first, removes every pod podshim still
// runs, and undoes the fence, cgroups and mounts. It is safe to call twice.
func (c *Cluster) Stop() {
	c.kubelet.stop(30 * time.Second)
	c.kubelet = nil
	if c.podshim != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		if out, err := c.Crictl(ctx, "rmp", "-fa"); err != nil {
			c.logf("removing pods at stop: %v %s", err, out)
		}
		cancel()
	}
	c.podshim.stop(30 * time.Second)
	c.podshim = nil
	c.scheduler.stop(10 * time.Second)
	c.scheduler = nil
	c.controllers.stop(10 * time.Second)
	c.controllers = nil
	c.apiserver.stop(20 * time.Second)
	c.apiserver = nil
	c.etcd.stop(10 * time.Second)
	c.etcd = nil
	c.reg.stop(5 * time.Second)
	c.reg = nil
	unmountBelow(c.opts.Dir)
	c.unmountImageFs()
	removeCgroupTree(c.opts.CgroupRoot)
	if c.fence != nil {
		c.fence.remove()
		c.fence = nil
	}
}

// logf writes a line of the harness's own to LOGDIR/harness.log.
func (c *Cluster) logf(format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(c.logDir, "harness.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitFor polls check every interval until it succeeds, p exits, or ctx
// (bounded by timeout) ends; the last error is returned.
func waitFor(ctx context.Context, timeout time.Duration, p *process, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(); last == nil {
			return nil
		}
		if p != nil {
			if done, err := p.exited(); done {
				return fmt.Errorf("%s exited (%v) while waiting: %w", p.name, err, last)
			}
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
