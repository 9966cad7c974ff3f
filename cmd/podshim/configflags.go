// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"

	"github.com/podshim/podshim/pkg/config"
)

// configFlags registers the flags that shape the daemon's config on fs, and
// returns the function that loads the config once fs is parsed: the file (at
// its default path optional), then the flags on top. serve and config dump
// share it, so a dump shows exactly what serve would run with.
func configFlags(fs *flag.FlagSet) func() (config.Config, error) {
	cfgPath := fs.String("config", config.DefaultPath, "configuration file (TOML); optional at its default path")
	root := fs.String("root", "", "persistent data directory (default "+config.DefaultRoot+")")
	state := fs.String("state", "", "runtime state directory (default "+config.DefaultState+")")
	listen := fs.String("listen", "", "CRI unix socket path (default "+config.DefaultListen+")")
	return func() (config.Config, error) {
		explicit := false
		fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
		cfg, err := config.Load(*cfgPath, explicit)
		if err != nil {
			return cfg, err
		}
		// Flags win over the file, so tests and benchmarks can run several
		// daemons side by side from one config.
		for p, v := range map[*string]string{&cfg.Root: *root, &cfg.State: *state, &cfg.Listen: *listen} {
			if v != "" {
				*p = v
			}
		}
		return cfg, nil
	}
}
