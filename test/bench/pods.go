// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

const benchNamespace = "podshim-bench"

// rpcTimeout bounds one CRI call. Generous: 100 pods starting at once on
// two cores queue behind each other, and a slow pod is a number to report,
// not a failure.
const rpcTimeout = 3 * time.Minute

// rpcContext gives one call its own deadline, detached from ctx. ctx (the
// run's: Ctrl-C, -timeout) is checked between calls, never used to abandon
// one: the daemon finishes a call whose client left, and a pod made after
// the bench stopped listening would escape the clean-up.
func rpcContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), rpcTimeout)
}

// podConfig is a plain pod as the kubelet would send it, with a log
// directory the bench creates beforehand (the kubelet creates it too).
func (e *env) podConfig(name string) (*runtimeapi.PodSandboxConfig, error) {
	logDir := filepath.Join(e.logs, name)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: benchNamespace, Uid: name + "-uid"},
		Hostname:     name,
		LogDirectory: logDir,
		Labels:       map[string]string{"podshim-bench": "1"},
		Linux:        &runtimeapi.LinuxPodSandboxConfig{},
	}, nil
}

// containerConfig runs `sleep 3600` from busybox; UserSpecifiedImage is
// set as crictl sets it, so both ways send the same request.
func containerConfig() *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "sleep"},
		Image:    &runtimeapi.ImageSpec{Image: busyboxImage, UserSpecifiedImage: busyboxImage},
		Command:  []string{"sleep", "3600"},
		LogPath:  "sleep.log",
		Labels:   map[string]string{"podshim-bench": "1"},
		Linux:    &runtimeapi.LinuxContainerConfig{},
	}
}

// runPodGRPC is the kubelet's path to a ready pod: RunPodSandbox,
// CreateContainer, StartContainer. It returns the IDs made so far even on
// failure, so they can be removed.
func (e *env) runPodGRPC(ctx context.Context, cfg *runtimeapi.PodSandboxConfig) (pod, ctr string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	rctx, cancel := rpcContext(ctx)
	defer cancel()
	rp, err := e.rt.RunPodSandbox(rctx, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		return "", "", fmt.Errorf("RunPodSandbox %s: %w", cfg.Metadata.Name, err)
	}
	pod = rp.PodSandboxId
	if err := ctx.Err(); err != nil {
		return pod, "", err
	}
	cc, err := e.rt.CreateContainer(rctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, Config: containerConfig(), SandboxConfig: cfg})
	if err != nil {
		return pod, "", fmt.Errorf("CreateContainer in %s: %w", cfg.Metadata.Name, err)
	}
	ctr = cc.ContainerId
	if err := ctx.Err(); err != nil {
		return pod, ctr, err
	}
	if _, err := e.rt.StartContainer(rctx, &runtimeapi.StartContainerRequest{ContainerId: ctr}); err != nil {
		return pod, ctr, fmt.Errorf("StartContainer in %s: %w", cfg.Metadata.Name, err)
	}
	return pod, ctr, nil
}

// track notes a pod for the leak checks before anything else can fail.
// It returns the pod's index in e.pods.
func (e *env) track(pod string, ctrs ...string) int {
	e.pods = append(e.pods, podRef{ID: pod, Containers: ctrs})
	return len(e.pods) - 1
}

// notePause reads the pod's pause pid from verbose status (and its start
// time from /proc) so the leak check can tell it is gone.
func (e *env) notePause(ctx context.Context, i int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := rpcContext(ctx)
	defer cancel()
	resp, err := e.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: e.pods[i].ID, Verbose: true})
	if err != nil {
		return fmt.Errorf("PodSandboxStatus %s: %w", e.pods[i].ID, err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil || info.Pid <= 0 {
		return fmt.Errorf("pod %s: no pause pid in verbose status %q", e.pods[i].ID, resp.Info["info"])
	}
	ref, err := refOf(info.Pid)
	if err != nil {
		return fmt.Errorf("pod %s: pause pid %d: %w", e.pods[i].ID, info.Pid, err)
	}
	e.pods[i].Pause = ref
	return nil
}

// removePod is what `crictl rmp -f` does: stop, then remove (containers
// included). NotFound counts as done. It runs even when ctx has ended:
// removing is also what the clean-up would do.
func (e *env) removePod(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	ctx, cancel := rpcContext(ctx)
	defer cancel()
	_, serr := e.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
	_, rerr := e.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id})
	if rerr != nil {
		return errors.Join(fmt.Errorf("remove pod %s", id), serr, rerr)
	}
	return nil
}
