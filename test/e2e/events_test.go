// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/test/registry"
)

// eventWatch is one GetContainerEvents stream, read into a channel.
type eventWatch struct {
	ch   chan *runtimeapi.ContainerEventResponse
	seen []*runtimeapi.ContainerEventResponse
}

func watchEvents(t *testing.T, d *daemon) *eventWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := d.rt.GetContainerEvents(ctx, &runtimeapi.GetEventsRequest{})
	if err != nil {
		t.Fatalf("GetContainerEvents: %v", err)
	}
	w := &eventWatch{ch: make(chan *runtimeapi.ContainerEventResponse, 1000)}
	go func() {
		defer close(w.ch)
		for {
			ev, err := stream.Recv()
			if err != nil {
				return
			}
			w.ch <- ev
		}
	}()
	return w
}

// next waits for the event of type typ about id, keeping the others it
// reads on the way.
func (w *eventWatch) next(t *testing.T, id string, typ runtimeapi.ContainerEventType) *runtimeapi.ContainerEventResponse {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case ev, ok := <-w.ch:
			if !ok {
				t.Fatalf("event stream ended before %v of %s; seen %s", typ, id, w.summary())
			}
			w.seen = append(w.seen, ev)
			if ev.ContainerId == id && ev.ContainerEventType == typ {
				if ev.CreatedAt == 0 || ev.PodSandboxStatus.GetMetadata() == nil {
					t.Fatalf("%v of %s lacks its time or pod status: %v", typ, id, ev)
				}
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v of %s within a minute; seen %s", typ, id, w.summary())
		}
	}
}

func (w *eventWatch) summary() string {
	var s []string
	for _, ev := range w.seen {
		s = append(s, ev.ContainerEventType.String()+" "+ev.ContainerId[:12])
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// types lists the event types seen about id, in order.
func (w *eventWatch) types(id string) []runtimeapi.ContainerEventType {
	var out []runtimeapi.ContainerEventType
	for _, ev := range w.seen {
		if ev.ContainerId == id {
			out = append(out, ev.ContainerEventType)
		}
	}
	return out
}

func statusOf(ev *runtimeapi.ContainerEventResponse, id string) *runtimeapi.ContainerStatus {
	for _, st := range ev.ContainersStatuses {
		if st.Id == id {
			return st
		}
	}
	return nil
}

// Every lifecycle change of a pod and of its container reaches every
// subscriber, in order, each event carrying the pod's status and its
// containers' statuses as they are after the change.
func TestContainerEventsForAContainerAndItsPod(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	w1, w2 := watchEvents(t, d), watchEvents(t, d)
	cfg := podConfig("events")
	cfg.LogDirectory = t.TempDir()
	pod := runPod(t, d, cfg)
	e := &podEnv{d: d, image: image, pod: pod, podCfg: cfg, logDir: cfg.LogDirectory}

	ev := w1.next(t, pod, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	if ev.PodSandboxStatus.Id != pod || ev.PodSandboxStatus.Metadata.Uid != cfg.Metadata.Uid {
		t.Fatalf("pod CREATED carries the status of another pod: %v", ev.PodSandboxStatus)
	}
	ev = w1.next(t, pod, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	if ev.PodSandboxStatus.State != runtimeapi.PodSandboxState_SANDBOX_READY || ev.PodSandboxStatus.GetNetwork().GetIp() == "" {
		t.Fatalf("pod STARTED: pod status %v", ev.PodSandboxStatus)
	}

	// "ready" is made by the test once it watches, so the container
	// cannot exit before its STARTED event was checked.
	ctr := e.create(t, e.containerConfig("quitter", "sh", "-c", "while [ ! -e /ready ]; do sleep 0.05; done; exit 3"))
	ev = w1.next(t, ctr, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	if st := statusOf(ev, ctr); st == nil || st.State != runtimeapi.ContainerState_CONTAINER_CREATED {
		t.Fatalf("container CREATED: its status %v", st)
	}
	if _, err := d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: ctr}); err != nil {
		t.Fatal(err)
	}
	ev = w1.next(t, ctr, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	if st := statusOf(ev, ctr); st == nil || st.State != runtimeapi.ContainerState_CONTAINER_RUNNING || st.StartedAt == 0 {
		t.Fatalf("container STARTED: its status %v", st)
	}
	if err := os.WriteFile(filepath.Join(d.dir, "root", "containers", ctr, "rootfs", "ready"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The exit as the pod's monitor records it, without any RPC.
	ev = w1.next(t, ctr, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	if st := statusOf(ev, ctr); st == nil || st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 3 {
		t.Fatalf("container STOPPED: its status %v", st)
	}
	if _, err := d.rt.RemoveContainer(ctxT(t, time.Minute), &runtimeapi.RemoveContainerRequest{ContainerId: ctr}); err != nil {
		t.Fatal(err)
	}
	ev = w1.next(t, ctr, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	if st := statusOf(ev, ctr); st != nil {
		t.Fatalf("container DELETED still lists it: %v", st)
	}

	// A container killed by StopPodSandbox is reported STOPPED too.
	sleeper := e.run(t, "sleeper", "sleep", "3600")
	w1.next(t, sleeper, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT)
	if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod}); err != nil {
		t.Fatal(err)
	}
	w1.next(t, sleeper, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	ev = w1.next(t, pod, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	if ev.PodSandboxStatus.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("pod STOPPED: pod status %v", ev.PodSandboxStatus)
	}
	// A second stop changes nothing and says nothing.
	if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod}); err != nil {
		t.Fatal(err)
	}
	w1.next(t, sleeper, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	ev = w1.next(t, pod, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	if ev.PodSandboxStatus.Metadata.Uid != cfg.Metadata.Uid || len(ev.ContainersStatuses) != 0 {
		t.Fatalf("pod DELETED: pod status %v, containers %v", ev.PodSandboxStatus, ev.ContainersStatuses)
	}

	// The second subscriber saw the same story: the pod's removal is
	// the last of it.
	w2.next(t, pod, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT)
	for _, id := range []string{pod, ctr, sleeper} {
		if a, b := w1.types(id), w2.types(id); len(a) != len(b) {
			t.Errorf("%s: subscriber 1 saw %v, subscriber 2 %v", id, a, b)
		}
	}
	want := map[string][]runtimeapi.ContainerEventType{
		pod: {runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT,
			runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT},
	}
	want[ctr], want[sleeper] = want[pod], want[pod]
	for id, types := range want {
		got := w2.types(id)
		if len(got) != len(types) {
			t.Errorf("%s: events %v, want %v", id, got, types)
			continue
		}
		for i := range got {
			if got[i] != types[i] {
				t.Errorf("%s: events %v, want %v", id, got, types)
				break
			}
		}
	}
}

// An exit that happens while podshim is down (killed -9) is sent once it
// is back, to the first subscriber, and only once.
func TestAnExitWhileTheDaemonIsDownIsSentOnceItIsBack(t *testing.T) {
	e := newPodEnv(t, "")
	ctr := e.run(t, "quitter", "sh", "-c", "while [ ! -e /go ]; do sleep 0.05; done; exit 7")
	e.waitState(t, ctr, runtimeapi.ContainerState_CONTAINER_RUNNING)

	e.d.kill()
	if err := os.WriteFile(filepath.Join(e.d.dir, "root", "containers", ctr, "rootfs", "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	monDir := filepath.Join(e.d.dir, "state", "sandboxes", e.pod, "monitor")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, exited, err := monitor.ReadExit(monDir, ctr); err == nil && exited {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container did not exit while podshim was down")
		}
	}
	e.d.start()
	w := watchEvents(t, e.d)
	ev := w.next(t, ctr, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT)
	if st := statusOf(ev, ctr); st == nil || st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != 7 {
		t.Fatalf("STOPPED after the restart: its status %v", st)
	}
	if ev.PodSandboxStatus.Id != e.pod {
		t.Fatalf("STOPPED after the restart carries pod %s", ev.PodSandboxStatus.Id)
	}

	// Once sent, never again: not after another restart either.
	e.d.restart()
	w = watchEvents(t, e.d)
	marker := e.create(t, e.containerConfig("marker", "true"))
	w.next(t, marker, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	if got := w.types(ctr); len(got) != 0 {
		t.Fatalf("the exit was sent again after a second restart: %v", got)
	}
}
