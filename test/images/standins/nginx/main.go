// SPDX-License-Identifier: Apache-2.0

// Command nginx is podshim's offline stand-in for the nginx web server in
// the e2e-test-images/nginx and hostnet-nginx test images.
//
// critest relies on a few observable traits of real nginx, and this program
// reproduces exactly those:
//   - it answers GET / with 200 and a page containing "Welcome to nginx!";
//   - it listens on the port named by a "listen N;" directive in
//     /etc/nginx/conf.d/*.conf (80 when there is none), which is how the
//     hostnet image moves it to 12003;
//   - its process title reads "nginx: master process nginx -g daemon off;"
//     while its comm stays "nginx" (specs grep /proc/1/cmdline and run
//     `pidof nginx`); it gets there by re-executing its own binary with that
//     title as argv[0], the closest a Go program can come to nginx's
//     in-place argv rewrite;
//   - it writes its pid to /var/run/nginx.pid once it is serving;
//   - it exits cleanly on SIGQUIT (the image's StopSignal), SIGTERM or SIGINT.
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	"github.com/podshim/podshim/test/images/standins/internal/web"
)

const (
	titlePrefix = "nginx: master process "
	confGlob    = "/etc/nginx/conf.d/*.conf"
	pidFile     = "/var/run/nginx.pid"
)

const page = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>This is podshim's test stand-in for nginx.</p>
</body>
</html>
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "nginx: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	if !strings.HasPrefix(os.Args[0], titlePrefix) {
		return reexecWithTitle()
	}
	port, err := configuredPort()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", web.ListenAddr(port))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	pid := web.PidFile(pidFile)
	if err := web.WritePidFile(pid); err != nil {
		return err
	}
	go func() {
		web.WaitForStop(syscall.SIGQUIT)
		_ = os.Remove(pid)
		_ = ln.Close()
	}()
	return web.Serve(ln, web.Site{Server: "nginx", Page: page})
}

// reexecWithTitle replaces this process (same pid) with a fresh copy whose
// argv[0] is nginx's master process title. comm comes from the executable's
// file name, so it remains "nginx".
func reexecWithTitle() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	title := titlePrefix + strings.Join(os.Args, " ")
	if err := syscall.Exec(exe, []string{title}, os.Environ()); err != nil {
		return fmt.Errorf("re-exec %s: %w", exe, err)
	}
	return nil
}

var listenRe = regexp.MustCompile(`(?m)^\s*listen\s+(?:[^\s;]*:)?(\d+)[^;]*;`)

// configuredPort reads the first listen directive of the conf.d files.
func configuredPort() (int, error) {
	files, err := filepath.Glob(confGlob)
	if err != nil {
		return 0, fmt.Errorf("glob %s: %w", confGlob, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("read config: %w", err)
		}
		if m := listenRe.FindSubmatch(b); m != nil {
			port, err := strconv.Atoi(string(m[1]))
			if err != nil {
				return 0, fmt.Errorf("%s: bad listen port %q: %w", f, m[1], err)
			}
			return port, nil
		}
	}
	return 80, nil
}
