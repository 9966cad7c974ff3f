// SPDX-License-Identifier: Apache-2.0

package network

import (
	"context"
	"errors"
	"fmt"

	"github.com/containernetworking/cni/libcni"
)

// Check asks the network's plugins (CNI CHECK) whether the pod's network is
// still as ADD left it. A network whose config opts out of CHECK, or is
// older than CNI 0.4.0, has nothing to check and passes.
func (m *Manager) Check(ctx context.Context, pod Pod, netnsPath string) error {
	if err := validPodID(pod.ID); err != nil {
		return err
	}
	unlock := m.pods.Lock(pod.ID)
	defer unlock()

	in, err := m.readIntent(pod.ID)
	if err != nil {
		return err
	}
	if in == nil || in.State != IntentReady {
		return fmt.Errorf("check network of pod %s: not set up", pod.ID)
	}
	if netnsPath == "" {
		netnsPath = in.NetNS
	}
	if !isNetNS(netnsPath) {
		return fmt.Errorf("check network of pod %s: %s is not a network namespace", pod.ID, netnsPath)
	}
	list, err := libcni.NetworkConfFromBytes(in.ConfList)
	if err != nil {
		return fmt.Errorf("check network of pod %s: stored config: %w", pod.ID, err)
	}
	err = m.cni.CheckNetworkList(ctx, list, runtimeConf(in.Pod, netnsPath))
	if errors.Is(err, libcni.ErrorCheckNotSupp) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check network %q of pod %s: %w", list.Name, pod.ID, err)
	}
	return nil
}

// CheckAddresses is the quick look at a pod's network that its verbose
// status reports: the pod's interface is there, not down, and holds every
// address ADD gave it. It reads netlink only (well under a millisecond),
// where a CNI CHECK runs every plugin of the network again (about 10 ms):
// crictl inspectp and critest ask for verbose status freely, and neither
// containerd nor CRI-O makes it cost a plugin run.
func (m *Manager) CheckAddresses(pod Pod, netnsPath string) error {
	if err := validPodID(pod.ID); err != nil {
		return err
	}
	in, err := m.readIntent(pod.ID)
	if err != nil {
		return err
	}
	if in == nil || in.State != IntentReady || in.Result == nil {
		return fmt.Errorf("check network of pod %s: not set up", pod.ID)
	}
	if netnsPath == "" {
		netnsPath = in.NetNS
	}
	if err := podIfaceHolds(netnsPath, in.IfName, in.Result.IPs); err != nil {
		return fmt.Errorf("check network of pod %s: %w", pod.ID, err)
	}
	return nil
}
