// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"
	"net"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// ifName is the pod's interface, the name Kubernetes networking expects.
const ifName = "eth0"

// Pod identifies the sandbox to CNI plugins.
type Pod struct {
	ID           string        `json:"id"` // sandbox ID; the CNI container ID
	Name         string        `json:"name"`
	Namespace    string        `json:"namespace"`
	UID          string        `json:"uid"`
	PortMappings []PortMapping `json:"portMappings,omitempty"`
}

// PortMapping is a hostPort: traffic to HostIP:HostPort (any host address
// when HostIP is empty) goes to the pod's ContainerPort.
type PortMapping struct {
	Protocol      string `json:"protocol"` // tcp (default), udp or sctp
	ContainerPort int32  `json:"containerPort"`
	HostPort      int32  `json:"hostPort"`
	HostIP        string `json:"hostIP,omitempty"`
}

// Result is what a pod got from the network.
type Result struct {
	Interface string `json:"interface"`
	// IPs in the order the network returned them; the first is the
	// primary address. Dual-stack networks give one of each family.
	IPs []net.IP `json:"ips"`
}

// runtimeConf is the CNI invocation context for pod, the same for ADD,
// CHECK and DEL so that plugins find what they stored at ADD.
func runtimeConf(pod Pod, netnsPath string) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{
		ContainerID: pod.ID,
		NetNS:       netnsPath,
		IfName:      ifName,
		// IgnoreUnknown first: plugins that do not know the K8S_* keys
		// must not reject them.
		Args: [][2]string{
			{"IgnoreUnknown", "1"},
			{"K8S_POD_NAMESPACE", pod.Namespace},
			{"K8S_POD_NAME", pod.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", pod.ID},
			{"K8S_POD_UID", pod.UID},
		},
	}
	if pm := portMappings(pod.PortMappings); len(pm) > 0 {
		rt.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rt
}

// capPortMapping is the portMappings capability entry of the CNI
// conventions document.
type capPortMapping struct {
	HostPort      int32  `json:"hostPort"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP,omitempty"`
}

// portMappings keeps only real hostPorts: the kubelet also sends container
// ports with HostPort 0, which portmap would reject.
func portMappings(in []PortMapping) []capPortMapping {
	var out []capPortMapping
	for _, p := range in {
		if p.HostPort <= 0 || p.ContainerPort <= 0 {
			continue
		}
		proto := strings.ToLower(p.Protocol)
		if proto == "" {
			proto = "tcp"
		}
		out = append(out, capPortMapping{
			HostPort:      p.HostPort,
			ContainerPort: p.ContainerPort,
			Protocol:      proto,
			HostIP:        p.HostIP,
		})
	}
	return out
}

// resultFrom extracts the pod interface's addresses from a CNI result.
func resultFrom(r types.Result) (Result, error) {
	res, err := current.NewResultFromResult(r)
	if err != nil {
		return Result{}, fmt.Errorf("convert CNI result: %w", err)
	}
	// The pod's interface is the one named ifName inside a sandbox; IPs
	// tied to another interface (the host side of a veth, a bridge) are
	// not the pod's.
	podIf := -1
	for i, iface := range res.Interfaces {
		if iface.Name == ifName && iface.Sandbox != "" {
			podIf = i
			break
		}
	}
	out := Result{Interface: ifName}
	for _, ipc := range res.IPs {
		if podIf >= 0 && ipc.Interface != nil && *ipc.Interface != podIf {
			continue
		}
		out.IPs = append(out.IPs, ipc.Address.IP)
	}
	return out, nil
}
