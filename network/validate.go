// SPDX-License-Identifier: Apache-2.0

package network

import (
	"fmt"

	"github.com/containernetworking/cni/pkg/utils"
)

// validPodID accepts what CNI accepts as a container ID. Pod IDs also name
// files under StateDir, and this rules out "/", "..", and empty IDs.
func validPodID(id string) error {
	if id == "" {
		return fmt.Errorf("empty pod ID")
	}
	if err := utils.ValidateContainerID(id); err != nil {
		return fmt.Errorf("pod ID %q: %s", id, err.Msg)
	}
	return nil
}

// validBridgeName checks a Linux interface name.
func validBridgeName(name string) error {
	if err := utils.ValidateInterfaceName(name); err != nil {
		return fmt.Errorf("bridge name %q: %s", name, err.Msg)
	}
	return nil
}
