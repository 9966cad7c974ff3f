// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/oci"
	"github.com/podshim/podshim/pkg/records"
	"github.com/podshim/podshim/pkg/runc"
)

// ErrInvalid marks a sandbox config that can never run as given.
var ErrInvalid = errors.New("invalid pod sandbox config")

// ErrUnsupported marks a valid request for something podshim cannot do yet.
var ErrUnsupported = errors.New("not supported by podshim yet")

// ErrRefused marks a pod an NRI plugin refused to have run.
var ErrRefused = errors.New("pod sandbox refused")

// ErrNodeLacks marks a valid request for something podshim does, which this
// node's kernel, filesystem or runtime binary cannot.
var ErrNodeLacks = errors.New("not possible on this node")

// validate refuses what can never work, before anything is created.
func validate(cfg *runtimeapi.PodSandboxConfig, handler string) error {
	md := cfg.GetMetadata()
	if md.GetName() == "" || md.GetNamespace() == "" || md.GetUid() == "" {
		return fmt.Errorf("%w: metadata needs name, namespace and uid (got %q/%q/%q)", ErrInvalid, md.GetNamespace(), md.GetName(), md.GetUid())
	}
	if err := checkPodFiles(cfg.GetHostname(), cfg.GetDnsConfig()); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := oci.CheckSysctls(cfg.GetLinux().GetSysctls(), hostNetwork(cfg), hostIPC(cfg)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := checkUserns(cfg); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return nil
}

// netOutcome is what wiring a pod's network gave.
type netOutcome struct {
	res network.Result
	err error
}

// undo is a stack of cleanup steps for a create that fails part-way.
type undo []func()

func (u *undo) push(f func()) { *u = append(*u, f) }
func (u undo) run() {
	for i := len(u) - 1; i >= 0; i-- {
		u[i]()
	}
}

// Run creates and starts a sandbox. On any failure everything it did is
// undone: no netns, IP, mount, cgroup, process, directory or record is left.
func (m *Manager) Run(ctx context.Context, cfg *runtimeapi.PodSandboxConfig, handler string) (_ *Record, err error) {
	if err := validate(cfg, handler); err != nil {
		return nil, err
	}
	rt, err := m.handlers.Resolve(handler)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	userns := podUserns(cfg)
	if userns != nil {
		if err := m.usernsSupported(rt); err != nil {
			return nil, err
		}
	}
	r := &Record{ID: records.NewID(), Config: cfg, RuntimeHandler: handler, Runtime: rt.Name(), CreatedAt: time.Now().UnixNano()}
	name := nameOf(cfg.GetMetadata())
	if err := m.store.Reserve(name, r.ID); err != nil {
		return nil, err
	}
	unlock := m.lock(r.ID)
	defer unlock()

	var cleanup undo
	defer func() {
		if err != nil {
			cleanup.run()
			m.store.Release(name, r.ID)
		}
	}()

	r.Dir = filepath.Join(m.opts.StateDir, "sandboxes", r.ID)
	if err := os.MkdirAll(r.Dir, 0o711); err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}
	cleanup.push(func() { logTeardown(r.ID, "remove dir", os.RemoveAll(r.Dir)) })
	if err := markCreating(r.Dir); err != nil {
		return nil, fmt.Errorf("sandbox dir: %w", err)
	}

	if r.CgroupsPath, err = cgroupsPath(m.opts.CgroupDriver, cfg.GetLinux().GetCgroupParent(), r.ID); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	hostname, err := m.writePodFiles(r)
	if err != nil {
		return nil, err
	}
	if !hostIPC(cfg) {
		if r.ShmPath, err = mountShm(r.Dir); err != nil {
			return nil, err
		}
		cleanup.push(func() { logTeardown(r.ID, "unmount shm", unmountShm(r.ShmPath)) })
	}

	// The network is wired while the pause process starts: both need only
	// the pinned netns, and CNI is the slowest step of a pod's start. A
	// user-namespaced pod's netns is made by its pause, and wired after.
	netDone := make(chan netOutcome, 1)
	switch {
	case hostNetwork(cfg):
		netDone <- netOutcome{}
	case userns != nil:
	default:
		if r.NetNSPath, err = m.net.NewNetNS(r.ID); err != nil {
			return nil, fmt.Errorf("network namespace: %w", err)
		}
		cleanup.push(func() { logTeardown(r.ID, "remove netns", m.net.RemoveNetNS(r.NetNSPath)) })
		pod := podOf(r)
		cleanup.push(func() {
			// Setup undoes its own failed ADD; this undoes a successful one
			// when a later step fails.
			logTeardown(r.ID, "CNI teardown", m.net.Teardown(context.WithoutCancel(ctx), pod, r.NetNSPath))
		})
		go func() {
			res, err := m.net.Setup(ctx, pod, r.NetNSPath)
			netDone <- netOutcome{res, err}
		}()
	}

	// runc may leave state behind even when create fails half-way; its
	// forced delete is idempotent, so it is always part of the undo.
	cleanup.push(func() { logTeardown(r.ID, "delete pause", rt.Delete(context.WithoutCancel(ctx), r.ID)) })
	// The monitor starts while the pause and the network come up; the
	// pod's containers will need it.
	monDone := make(chan error, 1)
	go func() { monDone <- m.startMonitor(ctx, r, rt) }()
	cleanup.push(func() { m.stopMonitor(context.WithoutCancel(ctx), r) })
	startErr := m.startPause(ctx, r, rt, hostname)
	if userns != nil {
		if startErr == nil {
			netDone <- m.wireOwnNetNS(ctx, r, &cleanup)
		} else {
			netDone <- netOutcome{}
		}
	}
	netRes := <-netDone
	monErr := <-monDone
	if startErr != nil {
		return nil, startErr
	}
	if monErr != nil {
		return nil, monErr
	}
	if netRes.err != nil {
		return nil, fmt.Errorf("pod network: %w", netRes.err)
	}
	for _, ip := range netRes.res.IPs {
		r.IPs = append(r.IPs, ip.String())
	}
	if !hostNetwork(cfg) {
		if err := writeFileAtomic(filepath.Join(r.Dir, "hosts"), hostsFile(hostname, r.IPs), 0o644); err != nil {
			return nil, fmt.Errorf("write hosts: %w", err)
		}
	}
	if m.hooks != nil {
		// Plugins see the pod up, before anyone else can see it at all;
		// those that accepted it hear of its end if it goes no further.
		defer m.blockSync()()
		cleanup.push(func() {
			bg := context.WithoutCancel(ctx)
			m.hooks.StopPodSandbox(bg, r)
			m.hooks.RemovePodSandbox(bg, r)
		})
		if err := m.hooks.RunPodSandbox(ctx, r); err != nil {
			return nil, fmt.Errorf("%w: NRI: %v", ErrRefused, err)
		}
	}
	r.State = StateReady
	if err := m.store.Put(r); err != nil {
		return nil, err
	}
	clearCreating(r.ID, r.Dir)
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	klog.V(1).Infof("sandbox %s (%s) ready: pid %d, ips %v", r.ID, name, r.Pid, r.IPs)
	return r, nil
}

// writePodFiles writes hostname, resolv.conf and hosts into the pod's dir;
// containers bind-mount them. It returns the pod's hostname.
func (m *Manager) writePodFiles(r *Record) (string, error) {
	cfg := r.Config
	// With no hostname asked for, the pod keeps the node's, as containerd
	// does (a pod's name may also be longer than a hostname may be).
	hostname := cfg.GetHostname()
	if hostname == "" {
		h, err := os.Hostname()
		if err != nil {
			return "", fmt.Errorf("hostname: %w", err)
		}
		hostname = h
	}
	resolv, err := resolvConf(cfg.GetDnsConfig(), m.opts.HostResolvConf)
	if err != nil {
		return "", err
	}
	hosts := hostsFile(hostname, nil)
	if hostNetwork(cfg) {
		if hosts, err = os.ReadFile(m.opts.HostHosts); err != nil {
			return "", fmt.Errorf("read %s: %w", m.opts.HostHosts, err)
		}
	}
	for name, data := range map[string][]byte{"hostname": []byte(hostname + "\n"), "resolv.conf": resolv, "hosts": hosts} {
		if err := writeFileAtomic(filepath.Join(r.Dir, name), data, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
	}
	return hostname, nil
}

// mountShm gives the pod its own /dev/shm, shared by its containers.
func mountShm(dir string) (string, error) {
	p := filepath.Join(dir, "shm")
	if err := os.MkdirAll(p, 0o700); err != nil {
		return "", fmt.Errorf("shm: %w", err)
	}
	if err := unix.Mount("shm", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "mode=1777,size=65536k"); err != nil {
		return "", fmt.Errorf("mount shm at %s: %w", p, err)
	}
	return p, nil
}

func unmountShm(p string) error {
	if p == "" {
		return nil
	}
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	return nil
}

// startPause writes the pause bundle and runs it under the pod's runtime.
func (m *Manager) startPause(ctx context.Context, r *Record, rt *runc.Runtime, hostname string) error {
	cfg := r.Config
	in := oci.Sandbox{
		Hostname:    hostname,
		Rootfs:      m.pauseRootfs,
		NetNSPath:   r.NetNSPath,
		HostNetwork: hostNetwork(cfg),
		HostPID:     hostPID(cfg),
		HostIPC:     hostIPC(cfg),
		CgroupsPath: r.CgroupsPath,
		Sysctls:     cfg.GetLinux().GetSysctls(),
		OOMScoreAdj: m.oomScoreAdj,
		Annotations: map[string]string{"io.kubernetes.cri.sandbox-id": r.ID},
	}
	if u := podUserns(cfg); u != nil {
		in.UIDMappings, in.GIDMappings = idMappings(u)
	}
	if sc := cfg.GetLinux().GetSecurityContext(); sc != nil {
		if u := sc.GetRunAsUser(); u != nil {
			uid := uint32(u.GetValue())
			in.UID = &uid
		}
		if g := sc.GetRunAsGroup(); g != nil {
			gid := uint32(g.GetValue())
			in.GID = &gid
		}
	}
	spec := oci.SandboxSpec(in)
	spec.Version = rt.SpecVersion() // what the pod's runtime accepts
	data, err := json.Marshal(spec)
	if err != nil {
		return fmt.Errorf("pause spec: %w", err)
	}
	r.Spec = data
	bundle := filepath.Join(r.Dir, "bundle")
	if err := os.MkdirAll(bundle, 0o700); err != nil {
		return fmt.Errorf("pause bundle: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return fmt.Errorf("pause bundle: %w", err)
	}
	// runc runs to completion even when the caller gives up: killed half-way
	// it leaves a cgroup with no runc state, which no delete would find.
	// The caller's cancellation is honoured by the undo that follows.
	ctx = context.WithoutCancel(ctx)
	pid, err := rt.CreateDetached(ctx, r.ID, bundle)
	if err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	r.Pid = pid
	if r.PidStart, err = processStart(pid); err != nil {
		return fmt.Errorf("pause: pid %d: %w", pid, err)
	}
	if err := rt.Start(ctx, r.ID, bundle); err != nil {
		return fmt.Errorf("pause: %w", err)
	}
	return nil
}
