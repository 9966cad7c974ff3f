// SPDX-License-Identifier: Apache-2.0

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func (c *Cluster) bin(name string) string { return filepath.Join(c.opts.KubeBin, name) }

func (c *Cluster) makePKI(context.Context) error {
	p, err := newPKI(filepath.Join(c.opts.Dir, "pki"))
	if err != nil {
		return err
	}
	c.pki = p
	hosts := []string{"127.0.0.1", "localhost", "10.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	for _, cert := range []struct {
		name, cn string
		orgs     []string
		hosts    []string
	}{
		{"apiserver", "kube-apiserver", nil, hosts},
		{"admin", "podshim-node-admin", []string{"system:masters"}, nil},
		// The API server's identity towards the kubelet (exec, logs, ...).
		{"apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil},
		// The kubelet as the Node authorizer knows it.
		{"kubelet", "system:node:" + c.opts.NodeName, []string{"system:nodes"}, nil},
		{"controller-manager", "system:kube-controller-manager", nil, nil},
		{"scheduler", "system:kube-scheduler", nil, nil},
	} {
		if err := p.issue(cert.name, cert.cn, cert.orgs, cert.hosts); err != nil {
			return err
		}
	}
	return p.serviceAccountKey()
}

func (c *Cluster) startFence(context.Context) error {
	f, err := newFence(c.opts.Bridge)
	if err != nil {
		return err
	}
	c.fence = f
	return nil
}

func (c *Cluster) startRegistry(ctx context.Context) error {
	ready := filepath.Join(c.opts.Dir, "registry.addr")
	p, err := startProcess(c.logDir, "registry", c.opts.Registry, "--listen", "127.0.0.1:0", "--ready-file", ready)
	if err != nil {
		return err
	}
	c.reg = p
	return waitFor(ctx, 2*time.Minute, p, func() error {
		data, err := os.ReadFile(ready)
		if err != nil || len(data) == 0 {
			return fmt.Errorf("registry not ready")
		}
		c.registry = strings.TrimSpace(string(data))
		return nil
	})
}

// podshimConfig mirrors every public registry the tests name to the
// loopback registry, on a pod network of the cluster's own.
func (c *Cluster) podshimConfig() string {
	dir := filepath.Join(c.opts.Dir, "podshim")
	var b strings.Builder
	fmt.Fprintf(&b, "root = %q\nstate = %q\nlisten = %q\n", c.podshimRoot(), filepath.Join(dir, "state"), c.sock)
	b.WriteString(c.opts.PodshimConfig + "\n")
	// The upstream RuntimeClass specs run pods under a handler named
	// test-handler (they skip without one): here it is runc again.
	fmt.Fprintf(&b, "[runtimes.test-handler]\nbinary = %q\n", filepath.Join(filepath.Dir(c.opts.Podshim), "runc"))
	if c.opts.NRISocket != "" {
		fmt.Fprintf(&b, "[nri]\nenable = true\nsocket_path = %q\nplugin_path = %q\nplugin_config_path = %q\n",
			c.opts.NRISocket, filepath.Join(dir, "nri-plugins"), filepath.Join(dir, "nri-conf.d"))
	}
	fmt.Fprintf(&b, "[cni]\nconf_dir = %q\ndefault_bridge = %q\ndefault_subnet = %q\n", filepath.Join(dir, "cni"), c.opts.Bridge, c.opts.Subnet)
	b.WriteString("[registry.mirrors]\n")
	for _, host := range []string{"registry.k8s.io", "gcr.io", "k8s.gcr.io", "docker.io", "public.ecr.aws"} {
		fmt.Fprintf(&b, "%q = [\"http://%s\"]\n", host, c.registry)
	}
	fmt.Fprintf(&b, "[registry.hosts.%q]\ninsecure = true\n", c.registry)
	return b.String()
}

func (c *Cluster) startPodshim(ctx context.Context) error {
	cfg := filepath.Join(c.opts.Dir, "podshim.toml")
	if err := os.WriteFile(cfg, []byte(c.podshimConfig()), 0o644); err != nil {
		return err
	}
	p, err := startProcess(c.logDir, "podshim", c.opts.Podshim, "--config", cfg, "--v=4")
	if err != nil {
		return err
	}
	c.podshim = p
	return waitFor(ctx, time.Minute, p, func() error {
		_, err := c.Crictl(ctx, "version")
		return err
	})
}

func (c *Cluster) prePull(ctx context.Context) error {
	for _, img := range c.opts.PrePull {
		if _, err := c.Crictl(ctx, "pull", img); err != nil {
			return err
		}
	}
	return nil
}

// StopPodshim ends the daemon: gracefully with SIGTERM, or with SIGKILL as
// a crash would. Pods keep running either way.
func (c *Cluster) StopPodshim(kill bool) {
	if kill {
		c.podshim.kill()
	} else {
		c.podshim.stop(30 * time.Second)
	}
	c.podshim = nil
}

// StartPodshim starts the daemon again on the same root and state.
func (c *Cluster) StartPodshim(ctx context.Context) error { return c.startPodshim(ctx) }

func (c *Cluster) startEtcd(ctx context.Context) error {
	client, err := freePort()
	if err != nil {
		return err
	}
	peer, err := freePort()
	if err != nil {
		return err
	}
	clientURL := "http://127.0.0.1:" + itoa(client)
	peerURL := "http://127.0.0.1:" + itoa(peer)
	p, err := startProcess(c.logDir, "etcd", c.bin("etcd"),
		"--name", "podshim-node", "--data-dir", filepath.Join(c.opts.Dir, "etcd"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "podshim-node="+peerURL, "--log-level", "warn",
		"--quota-backend-bytes", itoa(1<<30))
	if err != nil {
		return err
	}
	c.etcd = p
	c.etcdURL = clientURL
	return waitFor(ctx, time.Minute, p, func() error {
		resp, err := http.Get(clientURL + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("etcd health: %s", resp.Status)
		}
		return nil
	})
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.apiPort = port
	server := "https://127.0.0.1:" + itoa(port)
	pk := c.pki.path
	p, err := startProcess(c.logDir, "kube-apiserver", c.bin("kube-apiserver"),
		"--etcd-servers", c.etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1", "--secure-port", itoa(port),
		"--tls-cert-file", pk("apiserver.crt"), "--tls-private-key-file", pk("apiserver.key"),
		"--client-ca-file", pk("ca.crt"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", pk("sa.pub"), "--service-account-signing-key-file", pk("sa.key"),
		"--service-cluster-ip-range", "10.0.0.0/24",
		"--authorization-mode", "Node,RBAC",
		"--allow-privileged=true",
		"--kubelet-client-certificate", pk("apiserver-kubelet-client.crt"),
		"--kubelet-client-key", pk("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types", "InternalIP",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		// The advertised address is loopback, which the endpoint reconciler
		// refuses: the default/kubernetes Service gets no endpoints, and no
		// pod here needs the API server.
		"--endpoint-reconciler-type", "none")
	if err != nil {
		return err
	}
	c.apiserver = p
	for _, name := range []string{"admin", "kubelet", "controller-manager", "scheduler"} {
		if err := c.pki.kubeconfig(filepath.Join(c.opts.Dir, name+".kubeconfig"), server, name); err != nil {
			return err
		}
	}
	c.kubeconfig = filepath.Join(c.opts.Dir, "admin.kubeconfig")
	client, err := c.adminHTTPClient()
	if err != nil {
		return err
	}
	return waitFor(ctx, 2*time.Minute, p, func() error {
		resp, err := client.Get(server + "/readyz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %s: %s", resp.Status, body)
		}
		return nil
	})
}

func (c *Cluster) adminHTTPClient() (*http.Client, error) {
	cert, err := tls.LoadX509KeyPair(c.pki.path("admin.crt"), c.pki.path("admin.key"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.caCert)
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool},
	}}, nil
}

func (c *Cluster) startControllerManager(context.Context) error {
	kc := filepath.Join(c.opts.Dir, "controller-manager.kubeconfig")
	p, err := startProcess(c.logDir, "kube-controller-manager", c.bin("kube-controller-manager"),
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--bind-address", "127.0.0.1", "--secure-port", "0",
		"--leader-elect=false",
		"--service-account-private-key-file", c.pki.path("sa.key"),
		"--root-ca-file", c.pki.path("ca.crt"),
		"--use-service-account-credentials=true",
		"--cluster-signing-cert-file", c.pki.path("ca.crt"), "--cluster-signing-key-file", c.pki.path("ca.key"),
		"--controllers", "*",
		// Pods of a node the tests take down must not be evicted while it
		// comes back.
		"--node-monitor-grace-period", "60s")
	if err != nil {
		return err
	}
	c.controllers = p
	return nil
}

func (c *Cluster) startScheduler(context.Context) error {
	kc := filepath.Join(c.opts.Dir, "scheduler.kubeconfig")
	p, err := startProcess(c.logDir, "kube-scheduler", c.bin("kube-scheduler"),
		"--kubeconfig", kc, "--authentication-kubeconfig", kc, "--authorization-kubeconfig", kc,
		"--bind-address", "127.0.0.1", "--secure-port", "0", "--leader-elect=false")
	if err != nil {
		return err
	}
	c.scheduler = p
	return nil
}

func (c *Cluster) startKubelet(ctx context.Context) error {
	if err := makeCgroupRoot(c.opts.CgroupRoot); err != nil {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	healthz, err := freePort()
	if err != nil {
		return err
	}
	c.kubeletPort = port
	cfg := filepath.Join(c.opts.Dir, "kubelet.yaml")
	if err := os.WriteFile(cfg, []byte(c.kubeletConfig(port, healthz)), 0o644); err != nil {
		return err
	}
	c.logf("kubelet: this node is cgroup v1; kubelet v1.35+ refuses it unless failCgroupV1: false, which kubelet.yaml sets")
	p, err := startProcess(c.logDir, "kubelet", c.bin("kubelet"),
		"--config", cfg, "--kubeconfig", filepath.Join(c.opts.Dir, "kubelet.kubeconfig"),
		"--root-dir", filepath.Join(c.opts.Dir, "kubelet"),
		"--hostname-override", c.opts.NodeName, fmt.Sprintf("--v=%d", max(c.opts.KubeletVerbosity, 2)))
	if err != nil {
		return err
	}
	c.kubelet = p
	return nil
}

// RestartKubelet stops and starts the kubelet with the same configuration.
func (c *Cluster) RestartKubelet(ctx context.Context) error {
	c.kubelet.stop(30 * time.Second)
	c.kubelet = nil
	if err := c.startKubelet(ctx); err != nil {
		return err
	}
	return c.waitNodeReady(ctx)
}

func (c *Cluster) kubeletConfig(port, healthz int) string {
	var gates []string
	for name, on := range c.opts.FeatureGates {
		gates = append(gates, fmt.Sprintf("  %s: %v", name, on))
	}
	sort.Strings(gates)
	gateYAML := "featureGates: {}"
	if len(gates) > 0 {
		gateYAML = "featureGates:\n" + strings.Join(gates, "\n")
	}
	resolv := filepath.Join(c.opts.Dir, "resolv.conf")
	// Pods get a resolver on their own loopback: nothing answers there,
	// and no pod query can leave the node.
	_ = os.WriteFile(resolv, []byte("nameserver 127.0.0.1\n"), 0o644)
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %s}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://%s
imageServiceEndpoint: unix://%s
cgroupDriver: cgroupfs
cgroupsPerQOS: true
cgroupRoot: %s
enforceNodeAllocatable: [pods]
# This VM is cgroup v1 and has swap: both are refused by default.
failCgroupV1: false
failSwapOn: false
resolvConf: %s
# Pod logs of this node only: another kubelet on the machine would remove
# the log directories of pods it does not know.
podLogsDir: %s
# The disk is shared with everything else on the machine.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
serializeImagePulls: false
# Image GC takes unused images known for 2 minutes (0 would mean the default, 2m).
imageMinimumGCAge: 2m
syncFrequency: 10s
nodeStatusUpdateFrequency: 5s
fileCheckFrequency: 5s
%s
%s
`, port, healthz, c.pki.path("ca.crt"), c.sock, c.sock, c.opts.CgroupRoot, resolv, filepath.Join(c.opts.Dir, "pod-logs"), gateYAML, c.opts.KubeletConfig)
}

func (c *Cluster) waitNodeReady(ctx context.Context) error {
	return waitFor(ctx, 3*time.Minute, c.kubelet, func() error {
		out, err := c.Kubectl(ctx, "", "get", "node", c.opts.NodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) != "True" {
			return fmt.Errorf("node Ready=%q", out)
		}
		return nil
	})
}

// KubeletGet reads a path of the kubelet's HTTPS API (/stats/summary,
// /metrics/cadvisor, ...) directly, as metrics-server does, with the API
// server's kubelet client certificate. (The API server's node proxy
// refuses a loopback node address.)
func (c *Cluster) KubeletGet(ctx context.Context, path string) ([]byte, error) {
	cert, err := tls.LoadX509KeyPair(c.pki.path("apiserver-kubelet-client.crt"), c.pki.path("apiserver-kubelet-client.key"))
	if err != nil {
		return nil, err
	}
	// The kubelet serves a self-signed certificate of its own.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true,
	}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d%s", c.kubeletPort, path), nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("kubelet %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}
