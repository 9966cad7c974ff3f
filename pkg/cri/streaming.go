// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"fmt"
	"io"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	remotecommand "k8s.io/cri-streaming/pkg/streaming/remotecommand"

	"github.com/podshim/podshim/pkg/container"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/sandbox"
)

// StreamBackend lets the stream server reach containers and pods.
type StreamBackend struct {
	Containers *container.Manager
	Sandboxes  *sandbox.Manager
}

// Exec runs a command with streamed stdio.
func (b StreamBackend) Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return b.Containers.Exec(ctx, id, cmd, stdin, stdout, stderr, tty, terminalSizes(ctx, resize))
}

// Attach joins a container's own stdio.
func (b StreamBackend) Attach(ctx context.Context, id string, stdin io.Reader, stdout, stderr io.Writer, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return b.Containers.Attach(ctx, id, stdin, stdout, stderr, terminalSizes(ctx, resize))
}

// terminalSizes relays the stream's resize events in the monitor's type.
func terminalSizes(ctx context.Context, in <-chan remotecommand.TerminalSize) <-chan monitor.TerminalSize {
	out := make(chan monitor.TerminalSize)
	go func() {
		defer close(out)
		for s := range in {
			select {
			case out <- monitor.TerminalSize{Width: s.Width, Height: s.Height}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// PortForward connects to a port inside a pod.
func (b StreamBackend) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	return b.Sandboxes.PortForward(ctx, podID, port, stream)
}

// Exec hands out the URL of an exec stream for a running container.
func (s *Service) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if err := s.mustRun(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	resp, err := s.streams.GetExec(req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// Attach hands out the URL of an attach stream for a running container.
func (s *Service) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if err := s.mustRun(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	resp, err := s.streams.GetAttach(req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// PortForward hands out the URL of a port-forward stream into a pod.
func (s *Service) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	if _, err := s.sandboxes.Get(req.GetPodSandboxId()); err != nil {
		return nil, toStatus(err)
	}
	resp, err := s.streams.GetPortForward(req)
	if err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// mustRun refuses a stream to a container that does not exist or does not
// run, before a URL is handed out for nothing.
func (s *Service) mustRun(ctx context.Context, id string) error {
	r, err := s.containers.Get(id)
	if err != nil {
		return toStatus(err)
	}
	st, err := s.containers.State(ctx, r)
	if err != nil {
		return toStatus(err)
	}
	if st.Status != monitor.StatusRunning {
		return toStatus(fmt.Errorf("%w: %s is %s", container.ErrNotRunning, r.ID, st.Status))
	}
	return nil
}
