// SPDX-License-Identifier: Apache-2.0

package main

import (
	"time"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/config"
	"github.com/podshim/podshim/pkg/cri"
	"github.com/podshim/podshim/pkg/nri"
)

// startNRI connects the pods and containers to NRI plugins when the
// config enables it, before any RPC is served; nil when it does not.
func startNRI(cfg config.Config, deps cri.Deps) (*nri.Service, error) {
	if !cfg.NRI.Enable {
		return nil, nil
	}
	s, err := nri.New(nri.Options{
		SocketPath:          cfg.NRI.SocketPath,
		PluginPath:          cfg.NRI.PluginPath,
		PluginConfigPath:    cfg.NRI.PluginConfigPath,
		DisableConnections:  cfg.NRI.DisableConnections,
		RegistrationTimeout: time.Duration(cfg.NRI.RegistrationTimeout),
		RequestTimeout:      time.Duration(cfg.NRI.RequestTimeout),
		Version:             version,
	}, deps.Sandboxes, deps.Containers)
	if err != nil {
		return nil, err
	}
	deps.Sandboxes.SetHooks(s)
	deps.Containers.SetHooks(s)
	if err := s.Start(); err != nil {
		return nil, err
	}
	klog.InfoS("NRI enabled", "socket", cfg.NRI.SocketPath, "pluginPath", cfg.NRI.PluginPath, "connections", !cfg.NRI.DisableConnections)
	return s, nil
}
