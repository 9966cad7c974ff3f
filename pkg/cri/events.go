// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/events"
)

// eventBuildTimeout bounds gathering the statuses an event carries, so a
// pod whose monitor hangs delays only its own events.
const eventBuildTimeout = 10 * time.Second

// eventStream is the container event pipeline behind GetContainerEvents.
// The sandbox and container managers call notify, with a lock held, once
// a lifecycle change is on disk; notify only queues. One queue per pod
// then builds each event (the pod's status and its containers' statuses,
// as they are by then) and publishes it, in the order of the changes.
type eventStream struct {
	broker *events.Broker[*runtimeapi.ContainerEventResponse]
	order  events.Serial
	// lastPod keeps each pod's last status, for the events that follow
	// its removal (the kubelet ignores an event without one).
	mu      sync.Mutex
	lastPod map[string]*runtimeapi.PodSandboxStatus
}

func newEventStream() *eventStream {
	return &eventStream{
		broker:  events.New[*runtimeapi.ContainerEventResponse](events.Options{}),
		lastPod: map[string]*runtimeapi.PodSandboxStatus{},
	}
}

// notify queues the event of a change to containerID (a sandbox's ID for
// the sandbox itself) in sandboxID. It never blocks.
func (s *Service) notify(containerID, sandboxID string, t runtimeapi.ContainerEventType) {
	at := time.Now().UnixNano()
	s.events.order.Queue(sandboxID, func() { s.publishEvent(containerID, sandboxID, t, at) })
}

func (s *Service) publishEvent(containerID, sandboxID string, t runtimeapi.ContainerEventType, at int64) {
	ctx, cancel := context.WithTimeout(context.Background(), eventBuildTimeout)
	defer cancel()
	ev := &runtimeapi.ContainerEventResponse{
		ContainerId:        containerID,
		ContainerEventType: t,
		CreatedAt:          at,
		PodSandboxStatus:   s.eventPodStatus(sandboxID, containerID == sandboxID && t == runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT),
		ContainersStatuses: []*runtimeapi.ContainerStatus{},
	}
	for _, c := range s.containers.List() {
		if c.SandboxID != sandboxID {
			continue
		}
		resp, err := s.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: c.ID})
		if err != nil {
			if status.Code(err) != codes.NotFound {
				klog.Warningf("container event %v of %s: status of container %s: %v", t, containerID, c.ID, err)
			}
			continue
		}
		ev.ContainersStatuses = append(ev.ContainersStatuses, resp.GetStatus())
	}
	klog.V(4).Infof("container event %v of %s in pod %s", t, containerID, sandboxID)
	s.events.broker.Publish(ev)
}

// eventPodStatus is the pod's status now, or the last one seen when the
// pod is gone; removed says this is the pod's last event.
func (s *Service) eventPodStatus(sandboxID string, removed bool) *runtimeapi.PodSandboxStatus {
	e := s.events
	var st *runtimeapi.PodSandboxStatus
	if r, err := s.sandboxes.Get(sandboxID); err == nil {
		st = s.sandboxStatus(r) // reads /proc: outside the lock
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if removed {
		defer delete(e.lastPod, sandboxID)
	}
	if st != nil {
		e.lastPod[sandboxID] = st
		return st
	}
	last, ok := e.lastPod[sandboxID]
	if !ok {
		return nil
	}
	gone := proto.Clone(last).(*runtimeapi.PodSandboxStatus)
	gone.State = runtimeapi.PodSandboxState_SANDBOX_NOTREADY
	gone.Network = nil
	return gone
}

// GetContainerEvents streams container and sandbox lifecycle events until
// the client goes away. A client that falls a whole buffer behind is cut
// off with ResourceExhausted rather than slowing the runtime down; it may
// subscribe again and relist.
func (s *Service) GetContainerEvents(req *runtimeapi.GetEventsRequest, stream runtimeapi.RuntimeService_GetContainerEventsServer) error {
	sub := s.events.broker.Subscribe()
	defer sub.Close()
	ctx := stream.Context()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.C():
			if !ok {
				err := sub.Err()
				if errors.Is(err, events.ErrSlowSubscriber) {
					return status.Errorf(codes.ResourceExhausted, "GetContainerEvents: %v; events were dropped, subscribe again and relist", err)
				}
				return status.Errorf(codes.Unavailable, "GetContainerEvents: %v", err)
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

// Close ends the event streams, so a graceful stop need not wait on them.
func (s *Service) Close() { s.events.broker.Close() }
