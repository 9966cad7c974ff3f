// SPDX-License-Identifier: Apache-2.0

// Command podshim is a Kubernetes container runtime: a CRI gRPC server on a
// unix socket. Subcommands: serve (the default), monitor (one per pod,
// started by the daemon), config (print the default or effective config),
// doctor (check the node), version.
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/monitor"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func usage() {
	fmt.Fprintf(os.Stderr, `usage: podshim [serve] [flags]
       podshim version
       podshim config default|dump [flags]
       podshim doctor [flags]
       podshim monitor ...   (started by the daemon, one per pod)

Serves the Kubernetes CRI (runtime.v1) on a unix socket.

flags:
`)
	flag.PrintDefaults()
}

func main() {
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		os.Exit(serveMain(args))
	case "monitor":
		// One per pod, started by the daemon: see pkg/monitor.
		os.Exit(monitor.Main(args))
	case "config":
		os.Exit(configMain(args))
	case "doctor":
		os.Exit(doctorMain(args))
	case holdCommand:
		os.Exit(holdMain())
	case "version":
		fmt.Printf("podshim %s\n", version)
	default:
		fmt.Fprintf(os.Stderr, "podshim: unknown command %q\n", cmd)
		usage()
		os.Exit(2)
	}
}

// parseFlags registers klog's flags next to ours, so -v works as kubelet
// users expect.
func parseFlags(fs *flag.FlagSet, args []string) error {
	klog.InitFlags(fs)
	fs.Usage = usage
	return fs.Parse(args)
}
