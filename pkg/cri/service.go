// SPDX-License-Identifier: Apache-2.0

// Package cri serves the Kubernetes Container Runtime Interface (runtime.v1)
// over gRPC. Each RPC, or small family of RPCs, lives in a file of its own;
// RPCs that are not built yet answer codes.Unimplemented through the
// embedded Unimplemented*Server types, never with a made-up answer.
package cri

import (
	"context"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/config"
	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/criu"
	"github.com/podshim/podshim/sandbox"
	"github.com/podshim/podshim/storage"
)

// imageStore is what the image RPCs need of the storage engine.
type imageStore interface {
	Pull(ctx context.Context, ref string, auth *storage.Auth) (storage.Image, error)
	Get(ref string) (storage.Image, error)
	List() ([]storage.Image, error)
	Remove(ref string) error
	CachedUsage(maxAge time.Duration) (images, containers storage.Usage, err error)
}

// podNetwork is what Status and UpdateRuntimeConfig need of networking.
type podNetwork interface {
	// Ready is nil when pods can be given a network, else the reason.
	Ready() error
	SetPodCIDR(cidr string) error
}

// Deps are the engines behind the RPCs.
type Deps struct {
	Images     imageStore
	Sandboxes  *sandbox.Manager
	Containers *container.Manager
	Network    podNetwork
	// Streams hands out exec, attach and port-forward URLs.
	Streams streamURLs
}

// streamURLs is the stream server's side the RPCs use.
type streamURLs interface {
	GetExec(*runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error)
	GetAttach(*runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error)
	GetPortForward(*runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error)
}

// Service implements RuntimeService and ImageService.
type Service struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfg        config.Config
	images     imageStore
	sandboxes  *sandbox.Manager
	containers *container.Manager
	network    podNetwork
	streams    streamURLs
	version    string
	started    time.Time
	events     *eventStream
	cpuRates   cpuRates
	// criu says whether checkpoint/restore can work on this node.
	criu criu.Checker
}

// New returns a Service backed by deps.
func New(cfg config.Config, deps Deps, version string) *Service {
	s := &Service{cfg: cfg, images: deps.Images, sandboxes: deps.Sandboxes, containers: deps.Containers, network: deps.Network, streams: deps.Streams,
		version: version, started: time.Now(), events: newEventStream()}
	// Lifecycle changes feed GetContainerEvents.
	if s.sandboxes != nil {
		s.sandboxes.SetNotifier(s.notify)
	}
	if s.containers != nil {
		s.containers.SetNotifier(s.notify)
	}
	return s
}

// Register adds both CRI services to a gRPC server.
func (s *Service) Register(g *grpc.Server) {
	runtimeapi.RegisterRuntimeServiceServer(g, s)
	runtimeapi.RegisterImageServiceServer(g, s)
}
