// SPDX-License-Identifier: Apache-2.0

package cri

import (
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/runc"
	"github.com/podshim/podshim/sandbox"
)

// runtimeHandlers lists what podshim can run pods with: every configured
// handler, and the empty name for the default one, each with what it can
// do here.
func (s *Service) runtimeHandlers() []*runtimeapi.RuntimeHandler {
	if s.sandboxes == nil {
		return nil // an image-only service (tests)
	}
	handlers := s.sandboxes.Handlers()
	out := []*runtimeapi.RuntimeHandler{{Name: "", Features: s.handlerFeatures(handlers.Default())}}
	for _, rt := range handlers.All() {
		out = append(out, &runtimeapi.RuntimeHandler{Name: rt.Name(), Features: s.handlerFeatures(rt)})
	}
	return out
}

// handlerFeatures is what a pod under rt gets: a recursive read-only mount
// needs both the kernel and the runtime binary (its `features` says "rro";
// a binary that cannot tell is taken not to); user namespaces need the
// binary's idmapped mounts and this node's idmapped overlays, exactly what
// RunPodSandbox checks.
func (s *Service) handlerFeatures(rt *runc.Runtime) *runtimeapi.RuntimeHandlerFeatures {
	return &runtimeapi.RuntimeHandlerFeatures{
		RecursiveReadOnlyMounts: s.containers.RecursiveReadOnlyMounts() && rt.Features().RecursiveReadOnly,
		UserNamespaces:          s.sandboxes.UserNamespaces(rt),
	}
}

// handlerView is one handler in verbose Status and PodSandboxStatus.
type handlerView struct {
	Name     string        `json:"name"`
	Binary   string        `json:"binary"`
	Root     string        `json:"root"`
	Default  bool          `json:"default,omitempty"`
	Features runc.Features `json:"features"`
}

func viewOf(rt *runc.Runtime, def bool) handlerView {
	return handlerView{Name: rt.Name(), Binary: rt.Binary(), Root: rt.Root(), Default: def, Features: rt.Features()}
}

// handlerInfo describes every handler for verbose Status: the binary, the
// root and what its `features` answered.
func (s *Service) handlerInfo() []handlerView {
	if s.sandboxes == nil {
		return nil
	}
	handlers := s.sandboxes.Handlers()
	var out []handlerView
	for _, rt := range handlers.All() {
		out = append(out, viewOf(rt, rt == handlers.Default()))
	}
	return out
}

// runtimeInfo describes the handler a pod runs under, or why it has none.
func runtimeInfo(sandboxes *sandbox.Manager, id string) any {
	rt, err := sandboxes.Runtime(id)
	if err != nil {
		return err.Error()
	}
	return viewOf(rt, false)
}
