// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/podshim/podshim/pkg/config"
)

const configUsage = `usage: podshim config default
       podshim config dump [--config FILE] [--root DIR] [--state DIR] [--listen SOCKET]

default  prints the built-in configuration as a commented TOML file
         (make install writes it to /etc/podshim/config.toml when none exists)
dump     prints the configuration a daemon started with the same flags would
         use: the file, then the flags on top
`

// configMain runs `podshim config default|dump`.
func configMain(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, configUsage)
		return 2
	}
	switch args[0] {
	case "default":
		if len(args) > 1 {
			fmt.Fprintf(os.Stderr, "podshim config default: takes no arguments, got %q\n", args[1:])
			return 2
		}
		text, err := config.DefaultFile()
		if err != nil {
			fmt.Fprintf(os.Stderr, "podshim: %v\n", err)
			return 1
		}
		os.Stdout.Write(text)
		return 0
	case "dump":
		fs := flag.NewFlagSet("podshim config dump", flag.ContinueOnError)
		fs.Usage = func() { fmt.Fprint(os.Stderr, configUsage) }
		load := configFlags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(os.Stderr, "podshim config dump: unexpected arguments %q\n", fs.Args())
			return 2
		}
		cfg, err := load()
		if err != nil {
			fmt.Fprintf(os.Stderr, "podshim: %v\n", err)
			return 1
		}
		text, err := config.Marshal(cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "podshim: %v\n", err)
			return 1
		}
		os.Stdout.Write(text)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "podshim config: unknown command %q\n", args[0])
		fmt.Fprint(os.Stderr, configUsage)
		return 2
	}
}
