// SPDX-License-Identifier: Apache-2.0

package network

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/containernetworking/cni/libcni"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
	"github.com/podshim/podshim/pkg/phase"
)

// Teardown detaches the pod from the network with CNI DEL and forgets it.
// It uses the configuration recorded at Setup, not the current one. It is
// idempotent (a pod with no intent has nothing to undo) and safe to retry:
// on error the intent is kept.
//
// netnsPath may be empty or name a namespace that no longer exists (removed
// already, or lost in a reboot); DEL is then sent without a namespace, as
// the CNI spec allows, so IPAM still frees the pod's address.
func (m *Manager) Teardown(ctx context.Context, pod Pod, netnsPath string) error {
	if err := validPodID(pod.ID); err != nil {
		return err
	}
	unlock := m.pods.Lock(pod.ID)
	defer unlock()

	in, err := m.readIntent(pod.ID)
	if err != nil || in == nil {
		return err
	}
	list, err := libcni.NetworkConfFromBytes(in.ConfList)
	if err != nil {
		return fmt.Errorf("tear down network of pod %s: stored config: %w", pod.ID, err)
	}
	if netnsPath == "" {
		netnsPath = in.NetNS
	}
	if !isNetNS(netnsPath) {
		netnsPath = ""
	}
	// The pod as recorded at ADD: its port mappings tell portmap what to
	// remove, whatever the caller passes now.
	rt := runtimeConf(in.Pod, netnsPath)

	// Read before DEL, which drops libcni's cache.
	ips := m.knownIPs(in, list, rt)
	pluginSeesAll := netnsPath != "" && podIfaceHolds(netnsPath, in.IfName, ips) == nil
	t := phase.Start("CNI teardown", pod.ID)
	defer t.Done()
	start := time.Now()
	err = m.cni.DelNetworkList(ctx, list, rt)
	metrics.CNI("DEL", start, err)
	t.Step("del")
	if err != nil {
		return fmt.Errorf("tear down network %q of pod %s: %w", list.Name, pod.ID, err)
	}
	// Whenever the plugin may have skipped it, not only without a netns:
	// the bridge plugin also skips its masquerade cleanup when the pod's
	// eth0 is gone from a netns that still exists, and it cleans only the
	// addresses it finds there. Where it found them all, it is done.
	if !pluginSeesAll {
		if err := cleanupBridgeMasq(list, pod.ID, ips); err != nil {
			return fmt.Errorf("tear down network of pod %s: %w", pod.ID, err)
		}
	}
	t.Step("masq-cleanup")
	defer t.Step("intent")
	return m.removeIntent(pod.ID)
}

// knownIPs returns the pod's addresses from its intent or, when a crash
// came between ADD and the intent update, from libcni's result cache.
func (m *Manager) knownIPs(in *Intent, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) []net.IP {
	if in.Result != nil && len(in.Result.IPs) > 0 {
		return in.Result.IPs
	}
	cached, err := m.cni.GetNetworkListCachedResult(list, rt)
	if err != nil || cached == nil {
		return nil
	}
	r, err := resultFrom(cached)
	if err != nil {
		klog.V(2).InfoS("Unreadable cached CNI result", "pod", rt.ContainerID, "err", err)
		return nil
	}
	return r.IPs
}
