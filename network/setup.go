// SPDX-License-Identifier: Apache-2.0

package network

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containernetworking/cni/libcni"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
)

// undoTimeout bounds the DEL that rolls back a failed Setup. It runs on a
// context detached from the caller's, since the caller giving up (the
// kubelet's deadline, say) is a common reason for the failure.
const undoTimeout = 2 * time.Minute

// Setup attaches the pod's namespace to the network: lo up, then CNI ADD of
// the current network with eth0 as the pod's interface.
//
// The intent is written first; on any failure Setup runs CNI DEL and drops
// the intent, leaving no lease, veth or NAT rule behind. If that DEL fails
// too, the intent stays (state IntentAdding) and both errors are returned:
// Teardown, now or after a restart, finishes the cleanup.
func (m *Manager) Setup(ctx context.Context, pod Pod, netnsPath string) (Result, error) {
	if err := validPodID(pod.ID); err != nil {
		return Result{}, err
	}
	unlock := m.pods.Lock(pod.ID)
	defer unlock()

	if !isNetNS(netnsPath) {
		return Result{}, fmt.Errorf("set up network of pod %s: %s is not a network namespace", pod.ID, netnsPath)
	}
	if old, err := m.readIntent(pod.ID); err != nil {
		return Result{}, err
	} else if old != nil {
		return Result{}, fmt.Errorf("set up network of pod %s: already has network state (%s); tear it down first", pod.ID, old.State)
	}
	n, err := m.currentNetwork()
	if err != nil {
		return Result{}, fmt.Errorf("set up network of pod %s: %w", pod.ID, err)
	}
	// ADD uses the very bytes stored in the intent, so DEL later sees the
	// same configuration ADD saw.
	list, err := libcni.NetworkConfFromBytes(n.inlined)
	if err != nil {
		return Result{}, fmt.Errorf("set up network of pod %s: reload %s: %w", pod.ID, n.file, err)
	}
	in := &Intent{
		Pod:      pod,
		NetNS:    netnsPath,
		IfName:   ifName,
		Network:  list.Name,
		ConfFile: n.file,
		ConfList: n.inlined,
		State:    IntentAdding,
		Created:  time.Now().UTC(),
	}
	if err := m.writeIntent(in); err != nil {
		return Result{}, err
	}

	rt := runtimeConf(pod, netnsPath)
	res, err := m.add(ctx, list, rt)
	if err == nil {
		in.State, in.Result = IntentReady, &res
		err = m.writeIntent(in)
	}
	if err != nil {
		err = fmt.Errorf("set up network %q of pod %s: %w", list.Name, pod.ID, err)
		if uerr := m.undo(ctx, list, rt); uerr != nil {
			return Result{}, errors.Join(err, fmt.Errorf("undo left network state, intent kept: %w", uerr))
		}
		return Result{}, err
	}
	return res, nil
}

func (m *Manager) add(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) (Result, error) {
	if err := loopbackUp(rt.NetNS); err != nil {
		return Result{}, err
	}
	if err := pinBridgeMACs(list); err != nil {
		return Result{}, err
	}
	start := time.Now()
	r, err := m.cni.AddNetworkList(ctx, list, rt)
	metrics.CNI("ADD", start, err)
	if err != nil {
		return Result{}, err
	}
	return resultFrom(r)
}

// undo rolls back a failed Setup; plugins treat DEL of something never
// (or half) added as success, so it is safe whatever step failed.
func (m *Manager) undo(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	start := time.Now()
	err := m.cni.DelNetworkList(dctx, list, rt)
	metrics.CNI("DEL", start, err)
	if err != nil {
		return err
	}
	if err := m.removeIntent(rt.ContainerID); err != nil {
		return err
	}
	klog.V(2).InfoS("Rolled back failed pod network setup", "pod", rt.ContainerID, "network", list.Name)
	return nil
}
