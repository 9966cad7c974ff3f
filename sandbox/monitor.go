// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
	"github.com/podshim/podshim/pkg/monitor"
	"github.com/podshim/podshim/pkg/runc"
)

// MonitorOptions says how to start a pod's monitor.
type MonitorOptions struct {
	// Self is the podshim binary, run as `podshim monitor`. The runtime
	// binary and root it drives are the pod's handler's.
	Self string
}

// monitors caches one client per pod's monitor. mu guards only the map:
// connecting (a dial and a ping of the monitor's socket, which a hung
// monitor can stall) happens outside it, one connect in flight per pod, so
// one stuck monitor never holds up the other pods.
type monitors struct {
	opts     MonitorOptions
	mu       sync.Mutex
	byID     map[string]*monitor.Client
	connects singleflight.Group
}

// monitorConnectTimeout bounds reconnecting to a pod's monitor.
const monitorConnectTimeout = 10 * time.Second

// monitorDir is where a pod's monitor keeps its socket and exit records.
func monitorDir(r *Record) string { return filepath.Join(r.Dir, "monitor") }

// MonitorDir returns the monitor directory of a pod.
func (m *Manager) MonitorDir(id string) (string, error) {
	r, err := m.store.Get(id)
	if err != nil {
		return "", err
	}
	return monitorDir(r), nil
}

// startMonitor starts a pod's monitor; it runs detached and outlives the
// daemon, holding the stdio of the pod's containers.
func (m *Manager) startMonitor(ctx context.Context, r *Record, rt *runc.Runtime) error {
	c, err := monitor.Start(ctx, monitor.StartOptions{
		Self: m.mon.opts.Self, Dir: monitorDir(r),
		Runc: rt.Binary(), RuncRoot: rt.Root(), SystemdCgroup: rt.SystemdCgroup(),
	})
	metrics.MonitorStarted(err)
	if err != nil {
		return fmt.Errorf("start monitor: %w", err)
	}
	m.mon.mu.Lock()
	m.mon.byID[r.ID] = c
	m.mon.mu.Unlock()
	return nil
}

// Monitor returns a client of the pod's monitor, reconnecting after a
// daemon restart. A pod that is gone gives ErrNotFound.
func (m *Manager) Monitor(ctx context.Context, id string) (*monitor.Client, error) {
	r, err := m.store.Get(id)
	if err != nil {
		return nil, err
	}
	m.mon.mu.Lock()
	c, ok := m.mon.byID[r.ID]
	m.mon.mu.Unlock()
	if ok {
		return c, nil
	}
	ch := m.mon.connects.DoChan(r.ID, func() (any, error) {
		// Shared by every caller waiting on this pod: not bound to the
		// first caller's context, but to a timeout of its own.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), monitorConnectTimeout)
		defer cancel()
		c, err := monitor.Connect(dctx, monitorDir(r))
		if err != nil {
			return nil, err
		}
		m.mon.mu.Lock()
		defer m.mon.mu.Unlock()
		if cached, ok := m.mon.byID[r.ID]; ok {
			return cached, nil
		}
		m.mon.byID[r.ID] = c
		return c, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, fmt.Errorf("monitor of pod %s: %w", r.ID, res.Err)
		}
		return res.Val.(*monitor.Client), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("monitor of pod %s: %w", r.ID, ctx.Err())
	}
}

// stopMonitor asks a pod's monitor to exit once its containers are gone,
// and forgets it.
func (m *Manager) stopMonitor(ctx context.Context, r *Record) {
	m.mon.mu.Lock()
	c, ok := m.mon.byID[r.ID]
	m.mon.mu.Unlock()
	if !ok {
		var err error
		if c, err = monitor.Connect(ctx, monitorDir(r)); err != nil {
			return // no monitor answers: nothing to stop
		}
	}
	if err := c.Shutdown(ctx); err != nil {
		klog.Warningf("sandbox %s: shut down monitor: %v", r.ID, err)
	}
	c.Close()
	m.mon.mu.Lock()
	delete(m.mon.byID, r.ID)
	m.mon.mu.Unlock()
}
