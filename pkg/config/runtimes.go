// SPDX-License-Identifier: Apache-2.0

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// handlerName is what a RuntimeClass's handler may be: a DNS label.
var handlerName = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// RuntimeHandlers returns every runtime handler with its defaults filled
// in: the built-in runc (binary runc_path, else bin/runc beside podshim,
// else $PATH), crun when Debian's package installed /usr/bin/crun, and the
// [runtimes.NAME] tables on top (a table named runc or crun overrides the
// built-in one).
func (c Config) RuntimeHandlers() map[string]Runtime {
	out := map[string]Runtime{"runc": {Binary: c.RuncPath}}
	if _, err := os.Stat(CrunBinary); err == nil {
		out["crun"] = Runtime{Binary: CrunBinary}
	}
	for name, rt := range c.Runtimes {
		out[name] = rt
	}
	for name, rt := range out {
		if rt.Root == "" {
			rt.Root = filepath.Join(c.State, "runtimes", name)
			if name == "runc" {
				// Where the single runc handler kept its state before
				// handlers existed: pods started then stay found.
				rt.Root = filepath.Join(c.State, "runc")
			}
		}
		if rt.CgroupDriver == "" {
			rt.CgroupDriver = c.CgroupDriver
		}
		out[name] = rt
	}
	return out
}

func (c Config) validateRuntimes() error {
	handlers := c.RuntimeHandlers()
	for name := range c.Runtimes {
		if !handlerName.MatchString(name) {
			return fmt.Errorf("runtimes.%q: a handler name must be a DNS label (lower-case letters, digits, '-')", name)
		}
	}
	roots := map[string]string{}
	for _, name := range sortedNames(handlers) {
		rt := handlers[name]
		if rt.CgroupDriver != c.CgroupDriver {
			return fmt.Errorf("runtimes.%s.cgroup_driver %q: must be cgroup_driver (%q): the kubelet lays out pod cgroups for that one driver", name, rt.CgroupDriver, c.CgroupDriver)
		}
		root := filepath.Clean(rt.Root)
		if other, ok := roots[root]; ok {
			return fmt.Errorf("runtimes.%s.root %s: also the root of handler %s; each handler needs its own", name, rt.Root, other)
		}
		roots[root] = name
	}
	if _, ok := handlers[c.DefaultRuntime]; !ok {
		return fmt.Errorf("default_runtime %q: not a configured handler (have %s)", c.DefaultRuntime, strings.Join(sortedNames(handlers), ", "))
	}
	return nil
}

func sortedNames(m map[string]Runtime) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
