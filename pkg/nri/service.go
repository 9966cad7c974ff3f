// SPDX-License-Identifier: Apache-2.0

// Package nri connects podshim to the Node Resource Interface: plugins
// (external, on a socket, or started from a directory) hear of every pod
// and container lifecycle event, may adjust a container's spec before it
// is created, and may ask for other containers' resources to be updated.
// The protocol is containerd's NRI adaptation library; this package turns
// podshim's records into its messages and applies what plugins answer.
package nri

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/containerd/nri/pkg/adaptation"
	api "github.com/containerd/nri/pkg/api"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/sandbox"
)

// Options configures the NRI service.
type Options struct {
	SocketPath          string
	PluginPath          string
	PluginConfigPath    string
	DisableConnections  bool
	RegistrationTimeout time.Duration
	RequestTimeout      time.Duration
	// Version is podshim's, told to plugins.
	Version string
}

// Service relays lifecycle events to NRI plugins. It implements the hooks
// of sandbox.Manager and container.Manager.
type Service struct {
	a          *adaptation.Adaptation
	sandboxes  *sandbox.Manager
	containers *container.Manager

	// stopped remembers which containers plugins were told stopped: a
	// container's stop can be seen from its exit, from StopContainer and
	// from RemoveContainer, and plugins hear of it once.
	mu      sync.Mutex
	stopped map[string]bool
}

// New prepares the service; Start opens it to plugins.
func New(opts Options, sandboxes *sandbox.Manager, containers *container.Manager) (*Service, error) {
	useKlog()
	s := &Service{sandboxes: sandboxes, containers: containers, stopped: map[string]bool{}}
	adaptation.SetPluginRegistrationTimeout(opts.RegistrationTimeout)
	adaptation.SetPluginRequestTimeout(opts.RequestTimeout)
	aopts := []adaptation.Option{
		adaptation.WithPluginPath(opts.PluginPath),
		adaptation.WithPluginConfigPath(opts.PluginConfigPath),
	}
	if opts.DisableConnections {
		aopts = append(aopts, adaptation.WithDisabledExternalConnections())
	} else {
		aopts = append(aopts, adaptation.WithSocketPath(opts.SocketPath))
		if err := socketFree(opts.SocketPath); err != nil {
			return nil, err
		}
	}
	a, err := adaptation.New("podshim", opts.Version, s.synchronize, s.updateContainers, aopts...)
	if err != nil {
		return nil, fmt.Errorf("nri: %w", err)
	}
	s.a = a
	return s, nil
}

// socketFree refuses a socket another runtime's NRI listens on: the
// library would remove it and take its plugins' connections away.
func socketFree(path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return nil // a stale socket, nobody answers
	}
	c.Close()
	return fmt.Errorf("nri: %s is in use (another runtime's NRI?): give podshim its own nri.socket_path", path)
}

// Start starts the plugins found in the plugin directory and listens for
// external ones.
func (s *Service) Start() error {
	if err := s.a.Start(); err != nil {
		return fmt.Errorf("nri: start: %w", err)
	}
	return nil
}

// Stop closes every plugin connection and the socket.
func (s *Service) Stop() { s.a.Stop() }

// syncStateTimeout bounds each monitor call of a synchronisation.
const syncStateTimeout = time.Second

// synchronize tells a newly registered plugin of every pod and container
// there is. The library holds container creations (BlockPluginSync) out
// while it runs, so a container is either listed here or announced to the
// plugin by its CreateContainer event.
func (s *Service) synchronize(ctx context.Context, cb adaptation.SyncCB) error {
	var pods []*adaptation.PodSandbox
	for _, r := range s.sandboxes.List() {
		pods = append(pods, podOf(r))
	}
	// Creations wait while this runs: a monitor that does not answer
	// must not hold them for long, so its containers are UNKNOWN (once
	// one of a pod's containers found it silent, the pod's others too).
	var ctrs []*adaptation.Container
	silent := map[string]bool{}
	for _, r := range s.containers.List() {
		state := api.ContainerState_CONTAINER_UNKNOWN
		if !silent[r.SandboxID] {
			sctx, cancel := context.WithTimeout(ctx, syncStateTimeout)
			st, err := s.containers.State(sctx, r)
			cancel()
			if err == nil {
				state = stateOf(st)
			} else {
				silent[r.SandboxID] = errors.Is(err, context.DeadlineExceeded)
				klog.V(1).Infof("nri: synchronize: state of container %s: %v", r.ID, err)
			}
		}
		ctrs = append(ctrs, containerOf(r, nil, state))
	}
	updates, err := cb(ctx, pods, ctrs)
	if err != nil {
		return err
	}
	s.applyLater(updates, nil)
	return nil
}

// updateContainers applies the resource updates a plugin asks for on its
// own, and answers those that failed.
func (s *Service) updateContainers(ctx context.Context, updates []*adaptation.ContainerUpdate) ([]*adaptation.ContainerUpdate, error) {
	var failed []*adaptation.ContainerUpdate
	var errs []error
	for _, u := range updates {
		if u == nil || u.GetContainerId() == "" || u.GetLinux().GetResources() == nil {
			continue
		}
		if err := s.containers.UpdateOCIResources(ctx, u.GetContainerId(), u.GetLinux().GetResources().ToOCI()); err != nil {
			failed = append(failed, u)
			if !u.GetIgnoreFailure() {
				errs = append(errs, fmt.Errorf("update container %s: %w", u.GetContainerId(), err))
			}
		}
	}
	return failed, errors.Join(errs...)
}

// applyLater carries out what a plugin asked for other containers while
// answering a hook: after the hook's RPC let go of its locks, so an update
// of a container being created or stopped does not wait on itself.
func (s *Service) applyLater(updates []*adaptation.ContainerUpdate, evictions []*adaptation.ContainerEviction) {
	if len(updates) == 0 && len(evictions) == 0 {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := s.updateContainers(ctx, updates); err != nil {
			klog.Warningf("nri: %v", err)
		}
		for _, e := range evictions {
			klog.Infof("nri: evicting container %s: %s", e.GetContainerId(), e.GetReason())
			if err := s.containers.Stop(ctx, e.GetContainerId(), 0); err != nil {
				klog.Warningf("nri: evict container %s: %v", e.GetContainerId(), err)
			}
		}
	}()
}
