// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrUnknownHandler means a runtime handler that is not configured.
var ErrUnknownHandler = errors.New("unknown runtime handler")

// Handlers is the set of configured runtime handlers, one of which is the
// default that the empty handler name selects.
type Handlers struct {
	byName map[string]*Runtime
	def    string
}

// NewHandlers groups runtimes; def names the default one.
func NewHandlers(def string, runtimes ...*Runtime) (*Handlers, error) {
	h := &Handlers{byName: map[string]*Runtime{}, def: def}
	for _, rt := range runtimes {
		if _, dup := h.byName[rt.name]; dup {
			return nil, fmt.Errorf("runtime handler %s configured twice", rt.name)
		}
		h.byName[rt.name] = rt
	}
	if _, ok := h.byName[def]; !ok {
		return nil, fmt.Errorf("default runtime handler %q is not configured (have %s)", def, strings.Join(h.Names(), ", "))
	}
	return h, nil
}

// Resolve maps a requested handler to a configured one: "" is the default.
func (h *Handlers) Resolve(name string) (*Runtime, error) {
	if name == "" {
		name = h.def
	}
	rt, ok := h.byName[name]
	if !ok {
		return nil, fmt.Errorf("%w %q: configured handlers are %s", ErrUnknownHandler, name, strings.Join(h.Names(), ", "))
	}
	return rt, nil
}

// Default is the default handler.
func (h *Handlers) Default() *Runtime { return h.byName[h.def] }

// Names lists the configured handlers, sorted.
func (h *Handlers) Names() []string {
	names := make([]string, 0, len(h.byName))
	for n := range h.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// All returns every handler, sorted by name.
func (h *Handlers) All() []*Runtime {
	var out []*Runtime
	for _, n := range h.Names() {
		out = append(out, h.byName[n])
	}
	return out
}
