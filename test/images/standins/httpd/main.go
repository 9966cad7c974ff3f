// SPDX-License-Identifier: Apache-2.0

// Command httpd is podshim's offline stand-in for Apache httpd in the
// e2e-test-images/httpd test image.
//
// The multi-container spec only needs it to serve HTTP 200 on port 80 and
// to log a line containing "httpd" when it starts, which is what it does.
// It stops on SIGWINCH (the real image's StopSignal, Apache's "graceful
// stop"), SIGTERM or SIGINT.
package main

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/podshim/podshim/test/images/standins/internal/web"
)

const page = "<html><body><h1>It works!</h1></body></html>\n"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "httpd: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	addr := web.ListenAddr(80)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	go func() {
		web.WaitForStop(syscall.SIGWINCH)
		_ = ln.Close()
	}()
	fmt.Printf("httpd: podshim stand-in for Apache httpd serving on %s\n", ln.Addr())
	return web.Serve(ln, web.Site{Server: "Apache", Page: page})
}
