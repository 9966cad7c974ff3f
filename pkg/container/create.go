// SPDX-License-Identifier: Apache-2.0

package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/atomicfile"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/oci"
	"github.com/podshim/podshim/pkg/phase"
	"github.com/podshim/podshim/pkg/records"
	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

// ErrInvalid marks a container config that can never run as given.
var ErrInvalid = errors.New("invalid container config")

// ErrRefused marks a container an NRI plugin refused to have created.
var ErrRefused = errors.New("container refused")

// ErrPodNotReady marks a request for a pod that is not running.
var ErrPodNotReady = errors.New("pod sandbox is not ready")

// Create makes a container in the created state: rootfs mounted, spec
// written, init process waiting under runc. On failure nothing is left.
func (m *Manager) Create(ctx context.Context, sandboxID string, cfg *runtimeapi.ContainerConfig) (_ *Record, err error) {
	pod, err := m.sandboxes.Get(sandboxID)
	if err != nil {
		return nil, err
	}
	// Until the record is written, the pod may not be stopped or removed:
	// its teardown lists the containers to take down first.
	defer m.sandboxes.LockForCreate(pod.ID)()
	if pod, err = m.sandboxes.Get(pod.ID); err != nil {
		return nil, err // removed while this waited
	}
	if !m.sandboxes.Ready(pod) {
		return nil, fmt.Errorf("%w: %s", ErrPodNotReady, pod.ID)
	}
	if cfg.GetMetadata().GetName() == "" {
		return nil, fmt.Errorf("%w: metadata.name is empty", ErrInvalid)
	}
	if cfg.GetImage().GetImage() == "" {
		return nil, fmt.Errorf("%w: image is empty", ErrInvalid)
	}
	r := &Record{
		ID: records.NewID(), SandboxID: pod.ID, Config: cfg, ImageRef: cfg.GetImage().GetImage(),
		CreatedAt: time.Now().UnixNano(),
		name:      containerName(cfg.GetMetadata(), pod.Config.GetMetadata()),
	}
	if err := m.store.Reserve(r.name, r.ID); err != nil {
		return nil, err
	}
	defer m.lock(r.ID)()
	t := phase.Start("CreateContainer", r.ID)
	defer t.Done()
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
			m.store.Release(r.name, r.ID)
		}
	}()

	img, err := m.images.Get(r.ImageRef)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", r.ImageRef, err)
	}
	r.ImageID = img.ID
	var idm *storage.IDMap
	if uids, gids, ok := sandbox.IDMappings(pod.Config); ok {
		// Seen through the pod's namespace, held by its pause.
		idm = &storage.IDMap{Userns: fmt.Sprintf("/proc/%d/ns/user", pod.Pid), RootUID: int(uids[0].HostID), RootGID: int(gids[0].HostID)}
	}
	if r.Rootfs, err = m.images.CreateRootfs(r.ID, img.ID, idm); err != nil {
		return nil, err
	}
	undo = append(undo, func() { logUndo(r.ID, "remove rootfs", m.images.RemoveRootfs(r.ID)) })
	t.Step("rootfs")

	r.Bundle = filepath.Join(m.opts.StateDir, "containers", r.ID)
	if err := os.MkdirAll(r.Bundle, 0o711); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	undo = append(undo, func() { logUndo(r.ID, "remove bundle", os.RemoveAll(r.Bundle)) })
	r.TerminationLog = filepath.Join(r.Bundle, "termination-log")
	if err := os.WriteFile(r.TerminationLog, nil, 0o666); err != nil {
		return nil, fmt.Errorf("termination log: %w", err)
	}
	// The log directory is the one the pod was created with, whatever this
	// request's copy of the pod's config says.
	logDir := pod.Config.GetLogDirectory()
	if r.LogPath, err = logPath(logDir, cfg.GetLogPath()); err != nil {
		return nil, err
	}

	t.Step("bundle")
	spec, err := m.buildSpec(ctx, r, pod, img.Config.Config)
	if err != nil {
		return nil, err
	}
	t.Step("spec")
	sig, err := oci.StopSignal(cfg, img.Config.Config)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	r.StopSignal = int(sig)
	if m.hooks != nil {
		// Until the record is stored, a plugin registering now could
		// neither find the container in its first list nor hear of it.
		defer m.hooks.BlockSync()()
		// Plugins before the one that refuses have accepted the container:
		// they hear of its end too.
		undo = append(undo, func() { m.hooks.UndoCreateContainer(context.WithoutCancel(ctx), r) })
		if err := m.hooks.CreateContainer(ctx, r, spec); err != nil {
			return nil, fmt.Errorf("%w: NRI: %v", ErrRefused, err)
		}
	}
	if r.Spec, err = json.Marshal(spec); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(r.Bundle, "config.json"), r.Spec, 0o600); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	t.Step("write-spec")

	mon, err := m.monitorOf(ctx, pod.ID)
	if err != nil {
		return nil, fmt.Errorf("monitor of pod %s: %w", pod.ID, err)
	}
	// As for the pause: runc create runs to completion, and a cancelled
	// caller is answered by the undo, which can then delete what it made.
	pid, err := mon.Create(context.WithoutCancel(ctx), monitor.CreateRequest{
		ID: r.ID, Bundle: r.Bundle, LogPath: r.LogPath, LogDir: logDir, LogRel: logRelOf(r.LogPath, logDir, cfg.GetLogPath()),
		Tty: cfg.GetTty(), Stdin: cfg.GetStdin(), StdinOnce: cfg.GetStdinOnce(),
	})
	t.Step("runc-create")
	switch {
	case err == nil:
		undo = append(undo, func() { logUndo(r.ID, "delete", mon.Delete(context.WithoutCancel(ctx), r.ID)) })
		r.Pid = pid
	case isExecFailure(err):
		// The reference runtime runs runc at StartContainer, so a process
		// that cannot be executed makes a container that fails to start
		// (exit 128, StartError) rather than one that is never created:
		// the kubelet then applies the pod's restart policy (a Never pod
		// fails) instead of retrying the create for ever. The monitor
		// left nothing behind.
		// crun does not always name the command ("open executable:
		// Permission denied"); the user needs to know which.
		msg := err.Error()
		if spec.Process != nil && len(spec.Process.Args) > 0 && !strings.Contains(msg, spec.Process.Args[0]) {
			msg = fmt.Sprintf("exec %q: %s", spec.Process.Args[0], msg)
		}
		r.StartError = "create container: " + msg
		klog.V(1).Infof("container %s (%s): its process cannot start: %v", r.ID, r.name, err)
	default:
		return nil, fmt.Errorf("create container: %w", err)
	}
	if err := m.store.Put(r); err != nil {
		return nil, err
	}
	t.Step("record")
	m.emit(r, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	if m.hooks != nil {
		m.hooks.PostCreateContainer(ctx, r)
	}
	klog.V(1).Infof("container %s (%s) created in pod %s", r.ID, r.name, pod.ID)
	return r, nil
}

// isExecFailure reports whether runc create failed because the container's
// process could not be executed: runc's init looks the command up (and
// execs it) last, after every mount, namespace and cgroup is set up, and
// says "error during container init: exec..." (an exec.LookPath error,
// `exec: "name": ...`, or the execve's, `exec /path: ...`). crun does the
// same last, and says "executable file `name` not found in $PATH" or
// "exec container process `/path`: ..." (with "(missing dynamic library?)"
// for ENOENT), or "open executable: ..." for a file it may not execute.
func isExecFailure(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "error during container init: exec") ||
		(strings.Contains(s, "executable file `") && strings.Contains(s, "` not found in $PATH")) ||
		strings.Contains(s, "exec container process ") || strings.Contains(s, "open executable: ")
}

// logPath joins the pod's log directory and the container's relative log
// path, creating the directories between. No directory means no log. A
// path that climbs out of the directory, or passes through a symlink, is
// refused: the monitor (root) appends to it. The monitor itself opens the
// file through a handle on the directory and follows no symlink, so a link
// planted after this check is refused there too.
func logPath(dir, rel string) (string, error) {
	if dir == "" || rel == "" {
		return "", nil
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("%w: log path %q must be a path inside the pod's log directory %s", ErrInvalid, rel, dir)
	}
	// The kubelet makes the pod's log directory; other clients (crictl)
	// may leave that to the runtime.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("log dir: %w", err)
	}
	parts := strings.Split(filepath.Clean(rel), string(filepath.Separator))
	cur := dir
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case err == nil && fi.Mode()&os.ModeSymlink != 0:
			return "", fmt.Errorf("%w: log path %q: %s is a symlink, and log paths may not contain one", ErrInvalid, rel, cur)
		case os.IsNotExist(err) && i < len(parts)-1:
			if err := os.Mkdir(cur, 0o755); err != nil && !os.IsExist(err) {
				return "", fmt.Errorf("log dir: %w", err)
			}
		case err != nil && !os.IsNotExist(err):
			return "", fmt.Errorf("log path %s: %w", cur, err)
		}
	}
	return cur, nil
}

// buildSpec gathers what pkg/oci needs from the pod, the image and the node.
func (m *Manager) buildSpec(ctx context.Context, r *Record, pod *sandbox.Record, image ocispec.ImageConfig) (*specs.Spec, error) {
	rt, err := m.sandboxes.Runtime(pod.ID)
	if err != nil {
		return nil, err
	}
	// What the kernel offers, less what the pod's runtime cannot do.
	features := m.features
	features.RecursiveReadOnly = features.RecursiveReadOnly && rt.Features().RecursiveReadOnly
	in := oci.ContainerInput{
		ID: r.ID, SandboxID: pod.ID, Config: r.Config, Sandbox: pod.Config, Image: image,
		RootfsPath:                 r.Rootfs,
		Passwd:                     readImageFile(r.Rootfs, "/etc/passwd"),
		Group:                      readImageFile(r.Rootfs, "/etc/group"),
		HostnamePath:               filepath.Join(pod.Dir, "hostname"),
		HostsPath:                  filepath.Join(pod.Dir, "hosts"),
		ResolvPath:                 filepath.Join(pod.Dir, "resolv.conf"),
		ShmPath:                    pod.ShmPath,
		TerminationMessageHostPath: r.TerminationLog,
		CgroupsPath:                containerCgroupsPath(m.opts.CgroupDriver, pod.CgroupsPath, r.ID),
		OOMScoreAdjMin:             m.oomMin,
		Nofile:                     m.nofile,
		Features:                   features,
		SeccompProfileRoot:         m.opts.SeccompProfileRoot,
		ReadProfile:                os.ReadFile,
		HostDevices:                hostDevices,
		PrivilegedDevices:          privilegedDevices,
		ResolveImageMount:          m.imageVolumes(r),
	}
	ns := func(t string) string { return fmt.Sprintf("/proc/%d/ns/%s", pod.Pid, t) }
	opts := pod.Config.GetLinux().GetSecurityContext().GetNamespaceOptions()
	if opts.GetNetwork() != runtimeapi.NamespaceMode_NODE {
		in.PodNetNS = pod.NetNSPath
		in.PodUTSNS = ns("uts")
	}
	if uids, gids, ok := sandbox.IDMappings(pod.Config); ok {
		in.PodUserNS, in.UIDMappings, in.GIDMappings = ns("user"), uids, gids
	}
	if opts.GetIpc() != runtimeapi.NamespaceMode_NODE {
		in.PodIPCNS = ns("ipc")
	}
	if opts.GetPid() != runtimeapi.NamespaceMode_NODE {
		in.PodPIDNS = ns("pid")
	}
	if cs := r.Config.GetLinux().GetSecurityContext().GetNamespaceOptions(); cs.GetPid() == runtimeapi.NamespaceMode_TARGET {
		target, err := m.pidTarget(ctx, pod.ID, cs.GetTargetId())
		if err != nil {
			return nil, err
		}
		in.TargetPIDNS = fmt.Sprintf("/proc/%d/ns/pid", target.Pid)
	}
	dirs, err := m.prepareImageVolumes(r.ID, r.Rootfs, oci.ImageVolumes(in))
	if err != nil {
		return nil, err
	}
	in.ImageVolumeDirs = dirs
	spec, err := oci.ContainerSpec(in)
	if err != nil {
		if errors.Is(err, oci.ErrInvalid) {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return nil, err
	}
	spec.Version = rt.SpecVersion() // what the pod's runtime accepts
	return spec, nil
}

// pidTarget is the container whose PID namespace a TARGET-mode container
// joins, as `kubectl debug --target` asks: a running container of the
// same pod.
func (m *Manager) pidTarget(ctx context.Context, podID, id string) (*Record, error) {
	if id == "" {
		return nil, fmt.Errorf("%w: PID namespace mode TARGET without a target container", ErrInvalid)
	}
	t, err := m.running(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("target container %q: %w", id, err)
	}
	if t.SandboxID != podID {
		return nil, fmt.Errorf("%w: target container %q is in pod %s, not in %s", ErrInvalid, id, t.SandboxID, podID)
	}
	if t.Pid <= 0 {
		return nil, fmt.Errorf("%w: target container %q has no process", ErrNotRunning, id)
	}
	return t, nil
}

// containerCgroupsPath puts a container beside its pod's pause, below the
// same parent.
func containerCgroupsPath(driver, podPath, id string) string {
	if driver == "systemd" {
		// "slice:podshim:<pod id>" -> "slice:podshim:<container id>"
		for i := len(podPath) - 1; i >= 0; i-- {
			if podPath[i] == ':' {
				return podPath[:i+1] + id
			}
		}
	}
	return path.Join(path.Dir(podPath), "podshim-"+id)
}

// readImageFile reads a file of the image through the rootfs, never
// following a symlink out of it; a missing file reads as nil.
func readImageFile(rootfs, name string) []byte {
	p, err := securejoin.SecureJoin(rootfs, name)
	if err != nil {
		return nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return data
}

func logUndo(id, step string, err error) {
	if err != nil {
		klog.Warningf("container %s: undo %s: %v", id, step, err)
	}
}

// logRelOf is what the monitor opens under the pod's log directory: the
// request's relative path, cleaned. With no log, nothing.
func logRelOf(path, dir, rel string) string {
	if path == "" || dir == "" {
		return ""
	}
	return filepath.Clean(rel)
}
