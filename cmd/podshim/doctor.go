// SPDX-License-Identifier: Apache-2.0

package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/podshim/podshim/pkg/doctor"
)

const doctorUsage = `usage: podshim doctor [--config FILE] [--root DIR] [--state DIR] [--listen SOCKET]

Checks this node for what podshim's pods need, with the binaries and CNI
directories the config names, and prints what works, what is missing and
what that turns off. Exit status 0 only if pods can run.
`

// holdCommand is the hidden subcommand doctor starts in a new user
// namespace to try an idmapped mount: it holds the namespace open until its
// stdin closes.
const holdCommand = "doctor-hold-userns"

func doctorMain(args []string) int {
	fs := flag.NewFlagSet("podshim doctor", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(os.Stderr, doctorUsage) }
	load := configFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "podshim: %v\n", err)
		return 1
	}
	opts := doctor.Options{
		Root:         cfg.Root,
		CNIConfDir:   cfg.CNI.ConfDir,
		CNIBinDirs:   cniBinDirs(cfg),
		CgroupDriver: cfg.CgroupDriver,
		NotFound:     map[string]string{},
	}
	// The same lookups the daemon makes (runtime.go), so the report is
	// about the binaries it would run.
	for name, dst := range map[string]*string{"runc": &opts.Runc, "pause": &opts.Pause} {
		configured := cfg.RuncPath
		if name == "pause" {
			configured = cfg.PausePath
		}
		if p, err := findBinary(configured, name); err != nil {
			opts.NotFound[name] = err.Error()
		} else {
			*dst = p
		}
	}
	if p := besideMe("podshim-monitor"); p != "" {
		if _, err := os.Stat(p); err == nil {
			opts.Monitor = p
		} else {
			opts.NotFound["podshim-monitor"] = "not beside podshim (" + p + ")"
		}
	}
	if self, err := os.Executable(); err == nil {
		opts.HoldUserns = []string{self, holdCommand}
	}
	results := doctor.Run(opts)
	if err := doctor.Write(os.Stdout, results); err != nil {
		fmt.Fprintf(os.Stderr, "podshim doctor: %v\n", err)
		return 1
	}
	if !doctor.PodsCanRun(results) {
		return 1
	}
	return 0
}

func holdMain() int {
	io.Copy(io.Discard, os.Stdin)
	return 0
}
