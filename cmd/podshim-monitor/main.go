// SPDX-License-Identifier: Apache-2.0

// Command podshim-monitor is `podshim monitor` in a binary of its own. One
// runs per pod, so its memory counts once per pod: linking only the monitor
// (no gRPC, protobuf, registry client or CNI) keeps its resident memory
// near 3.5 MiB instead of the ~15 MiB the full podshim binary costs. The
// daemon uses it when it is installed beside podshim, else `podshim
// monitor`; both run the same code.
package main

import (
	"os"

	"github.com/podshim/podshim/pkg/monitor"
)

func main() {
	args := os.Args[1:]
	// Started like `podshim monitor ...`: the subcommand word is optional.
	if len(args) > 0 && args[0] == "monitor" {
		args = args[1:]
	}
	os.Exit(monitor.Main(args))
}
