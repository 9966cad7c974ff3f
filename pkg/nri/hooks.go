// SPDX-License-Identifier: Apache-2.0

package nri

import (
	"context"
	"fmt"

	"github.com/containerd/nri/pkg/adaptation"
	api "github.com/containerd/nri/pkg/api"
	"github.com/containerd/nri/pkg/runtime-tools/generate"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/sandbox"
)

// The hooks are called with the pod's or container's own lock held, so
// that plugins hear of one object's events in the order they happened.
// That lock is held across a plugin's answer, which the library bounds by
// nri.plugin_request_timeout; no lock shared between pods is held.

// RunPodSandbox tells plugins of a pod whose pause and network are up,
// before the pod is recorded and visible: an error fails the RPC, and the
// pod is undone.
func (s *Service) RunPodSandbox(ctx context.Context, r *sandbox.Record) error {
	return s.a.RunPodSandbox(ctx, &adaptation.RunPodSandboxRequest{Pod: podOf(r)})
}

// StopPodSandbox tells plugins of a pod being stopped, after its
// containers stopped and before its pause and network go. Stopping goes
// on whatever they answer.
func (s *Service) StopPodSandbox(ctx context.Context, r *sandbox.Record) {
	if err := s.a.StopPodSandbox(ctx, &adaptation.StopPodSandboxRequest{Pod: podOf(r)}); err != nil {
		klog.Warningf("nri: StopPodSandbox %s: %v", r.ID, err)
	}
}

// RemovePodSandbox tells plugins a pod is gone.
func (s *Service) RemovePodSandbox(ctx context.Context, r *sandbox.Record) {
	if err := s.a.RemovePodSandbox(ctx, &adaptation.RemovePodSandboxRequest{Pod: podOf(r)}); err != nil {
		klog.Warningf("nri: RemovePodSandbox %s: %v", r.ID, err)
	}
}

// UpdatePodSandbox tells plugins of a pod's new resources (an in-place
// resize); an error fails the update. The pod's cgroup is the kubelet's,
// so nothing they might answer is applied to it.
func (s *Service) UpdatePodSandbox(ctx context.Context, r *sandbox.Record, overhead, resources *runtimeapi.LinuxContainerResources) error {
	_, err := s.a.UpdatePodSandbox(ctx, &adaptation.UpdatePodSandboxRequest{
		Pod: podOf(r), OverheadLinuxResources: criResources(overhead), LinuxResources: criResources(resources),
	})
	return err
}

// PostUpdatePodSandbox tells plugins a pod's resources were recorded.
func (s *Service) PostUpdatePodSandbox(ctx context.Context, r *sandbox.Record) {
	if err := s.a.PostUpdatePodSandbox(ctx, &adaptation.PostUpdatePodSandboxRequest{Pod: podOf(r)}); err != nil {
		klog.Warningf("nri: PostUpdatePodSandbox %s: %v", r.ID, err)
	}
}

// BlockSync holds a plugin's synchronisation off until unblock, so that a
// container being created is either in the list a new plugin gets or is
// announced to it.
func (s *Service) BlockSync() (unblock func()) { return s.a.BlockPluginSync().Unblock }

// pod is the record of a container's pod, or just its ID if it is gone.
func (s *Service) pod(r *container.Record) *api.PodSandbox {
	p, err := s.sandboxes.Get(r.SandboxID)
	if err != nil {
		return &api.PodSandbox{Id: r.SandboxID}
	}
	return podOf(p)
}

// CreateContainer asks plugins about a container before runc creates it,
// and applies the adjustments they make to its spec. An error fails the
// create; updates and evictions of other containers are carried out once
// the create has let go of its locks.
func (s *Service) CreateContainer(ctx context.Context, r *container.Record, spec *specs.Spec) error {
	rpl, err := s.a.CreateContainer(ctx, &adaptation.CreateContainerRequest{
		Pod:       s.pod(r),
		Container: containerOf(r, spec, api.ContainerState_CONTAINER_CREATED),
	})
	if err != nil {
		return err
	}
	if adj := rpl.GetAdjust(); adj != nil {
		if err := s.generator(spec).Adjust(adj); err != nil {
			return fmt.Errorf("apply the plugins' adjustment: %w", err)
		}
	}
	s.applyLater(rpl.GetUpdate(), rpl.GetEvict())
	return nil
}

// errNotSupported answers a plugin's request podshim cannot carry out,
// rather than dropping it without a word.
func errNotSupported(what string) error {
	return fmt.Errorf("%s: not supported by podshim", what)
}

// generator is NRI's adjustment code over spec, with what podshim does
// not do refused, and limits this node's cgroups cannot take dropped.
func (s *Service) generator(spec *specs.Spec) *generate.Generator {
	return generate.SpecGenerator(&specEditor{s: spec},
		generate.WithCDIDeviceInjector(func(*specs.Spec, []string) error { return errNotSupported("CDI devices") }),
		generate.WithBlockIOResolver(func(string) (*specs.LinuxBlockIO, error) { return nil, errNotSupported("block I/O classes") }),
		generate.WithRdtResolver(func(string) (*specs.LinuxIntelRdt, error) { return nil, errNotSupported("RDT classes") }),
		generate.WithResourceChecker(func(r *specs.LinuxResources) error {
			s.containers.DropUnsupported(r)
			return nil
		}),
	)
}

// UndoCreateContainer tells plugins that a container they were asked
// about will not exist after all (a later step of its create failed).
func (s *Service) UndoCreateContainer(ctx context.Context, r *container.Record) {
	s.StopContainer(ctx, r)
	s.RemoveContainer(ctx, r)
}

// PostCreateContainer tells plugins a container was created.
func (s *Service) PostCreateContainer(ctx context.Context, r *container.Record) {
	if err := s.a.PostCreateContainer(ctx, &adaptation.PostCreateContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_CREATED),
	}); err != nil {
		klog.Warningf("nri: PostCreateContainer %s: %v", r.ID, err)
	}
}

// StartContainer tells plugins a container is about to start.
func (s *Service) StartContainer(ctx context.Context, r *container.Record) {
	if err := s.a.StartContainer(ctx, &adaptation.StartContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_CREATED),
	}); err != nil {
		klog.Warningf("nri: StartContainer %s: %v", r.ID, err)
	}
}

// PostStartContainer tells plugins a container runs.
func (s *Service) PostStartContainer(ctx context.Context, r *container.Record) {
	if err := s.a.PostStartContainer(ctx, &adaptation.PostStartContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_RUNNING),
	}); err != nil {
		klog.Warningf("nri: PostStartContainer %s: %v", r.ID, err)
	}
}

// UpdateContainer asks plugins about new resources for a container; they
// may change them. An error fails the update.
func (s *Service) UpdateContainer(ctx context.Context, r *container.Record, res *specs.LinuxResources) (*specs.LinuxResources, error) {
	rpl, err := s.a.UpdateContainer(ctx, &adaptation.UpdateContainerRequest{
		Pod:            s.pod(r),
		Container:      containerOf(r, nil, api.ContainerState_CONTAINER_RUNNING),
		LinuxResources: api.FromOCILinuxResources(res, nil),
	})
	if err != nil {
		return nil, err
	}
	var others []*adaptation.ContainerUpdate
	for _, u := range rpl.GetUpdate() {
		if u == nil || u.GetLinux().GetResources() == nil {
			continue // the library's answer holds a nil for "no change"
		}
		if u.GetContainerId() != r.ID {
			others = append(others, u)
			continue
		}
		// The plugins' answer for this container is what is applied.
		spec := &specs.Spec{Linux: &specs.Linux{Resources: res}}
		if err := s.generator(spec).AdjustResources(u.GetLinux().GetResources()); err != nil {
			return nil, fmt.Errorf("apply the plugins' resources: %w", err)
		}
		res = spec.Linux.Resources
	}
	s.applyLater(others, rpl.GetEvict())
	return res, nil
}

// PostUpdateContainer tells plugins a container's resources changed.
func (s *Service) PostUpdateContainer(ctx context.Context, r *container.Record) {
	if err := s.a.PostUpdateContainer(ctx, &adaptation.PostUpdateContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_RUNNING),
	}); err != nil {
		klog.Warningf("nri: PostUpdateContainer %s: %v", r.ID, err)
	}
}

// StopContainer tells plugins a container stopped, once per container
// however many ways its stop is seen.
func (s *Service) StopContainer(ctx context.Context, r *container.Record) {
	s.mu.Lock()
	told := s.stopped[r.ID]
	s.stopped[r.ID] = true
	s.mu.Unlock()
	if told {
		return
	}
	rpl, err := s.a.StopContainer(ctx, &adaptation.StopContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_STOPPED),
	})
	if err != nil {
		klog.Warningf("nri: StopContainer %s: %v", r.ID, err)
		return
	}
	s.applyLater(rpl.GetUpdate(), nil)
}

// RemoveContainer tells plugins a container is gone; a container they
// did not hear stop is stopped first.
func (s *Service) RemoveContainer(ctx context.Context, r *container.Record) {
	s.StopContainer(ctx, r)
	s.mu.Lock()
	delete(s.stopped, r.ID)
	s.mu.Unlock()
	if err := s.a.RemoveContainer(ctx, &adaptation.RemoveContainerRequest{
		Pod: s.pod(r), Container: containerOf(r, nil, api.ContainerState_CONTAINER_STOPPED),
	}); err != nil {
		klog.Warningf("nri: RemoveContainer %s: %v", r.ID, err)
	}
}
