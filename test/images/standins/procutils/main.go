// SPDX-License-Identifier: Apache-2.0

// Command procutils supplies the two commands critest runs in its busybox
// containers that Debian's busybox build lacks: pgrep (the exec-timeout spec
// runs "pgrep sleep || true" and requires empty stderr) and ipcs (the HostIpc
// specs run "ipcs -m" and look for a segment id), and nmeter for the
// Kubernetes node images (the node specs read the clock with milliseconds
// from `nmeter -d0 '%3t'`). It is one multi-call
// binary, dispatching on the name it was invoked as, so the images carry a
// single extra file.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	name := filepath.Base(os.Args[0])
	args := os.Args[1:]
	// "procutils pgrep ..." also works, which helps when testing on a host.
	if name == "procutils" && len(args) > 0 {
		name, args = args[0], args[1:]
	}
	var code int
	switch name {
	case "pgrep":
		code = pgrep(args)
	case "ipcs":
		code = ipcs(args)
	case "nmeter":
		code = nmeter(args)
	default:
		fmt.Fprintf(os.Stderr, "procutils: unknown command %q (want pgrep, ipcs or nmeter)\n", name)
		code = 2
	}
	os.Exit(code)
}
