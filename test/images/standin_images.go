// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The images whose main program is a stand-in. Each is the busybox image
// (critest execs shell commands in all of them) plus one layer, with the
// Entrypoint/Cmd/ExposedPorts/StopSignal of the image it replaces.

func nginxConf(port int) []byte {
	return fmt.Appendf(nil, "server {\n    listen       %d;\n    server_name  localhost;\n}\n", port)
}

// nginx is e2e-test-images/nginx:1.14-2: the nginx stand-in on port 80.
// StopSignal SIGQUIT is nginx's graceful shutdown.
func (b *builder) nginx() (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(
		regFile("usr/sbin/nginx", 0o755, b.standins["nginx"]),
		regFile("etc/nginx/conf.d/default.conf", 0o644, nginxConf(80)),
		dirEntry("var/log/nginx", 0o755),
	), gzipped, "podshim: nginx stand-in")
	if err != nil {
		return imageSpec{}, fmt.Errorf("nginx layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{
		Env:          []string{defaultPath},
		Cmd:          []string{"nginx", "-g", "daemon off;"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		StopSignal:   "SIGQUIT",
	}
	return spec, nil
}

// hostnetNginx is k8s-staging-cri-tools/hostnet-nginx-<arch>: like the real
// one, the nginx image with a default.conf that listens on 12003 instead,
// so it can run in the host network namespace.
func (b *builder) hostnetNginx() (imageSpec, error) {
	spec, err := b.nginx()
	if err != nil {
		return imageSpec{}, err
	}
	l, err := layerFromEntries(tree{}.with(
		regFile("etc/nginx/conf.d/default.conf", 0o644, nginxConf(12003)),
	), gzipped, "podshim: nginx listens on 12003")
	if err != nil {
		return imageSpec{}, fmt.Errorf("hostnet-nginx layer: %w", err)
	}
	spec.layers = append(spec.layers, l)
	return spec, nil
}

// httpdForeground mirrors the official image's start script: clear a stale
// pid file, then run httpd in the foreground.
const httpdForeground = `#!/bin/sh
set -e
rm -f /usr/local/apache2/logs/httpd.pid
exec httpd -DFOREGROUND "$@"
`

// httpd is e2e-test-images/httpd:2.4.39-4. StopSignal SIGWINCH is
// Apache's graceful stop.
func (b *builder) httpd() (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(
		regFile("usr/local/apache2/bin/httpd", 0o755, b.standins["httpd"]),
		dirEntry("usr/local/apache2/logs", 0o755),
		regFile("usr/local/bin/httpd-foreground", 0o755, []byte(httpdForeground)),
	), gzipped, "podshim: httpd stand-in")
	if err != nil {
		return imageSpec{}, fmt.Errorf("httpd layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{
		Env:          []string{"PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HTTPD_PREFIX=/usr/local/apache2"},
		WorkingDir:   "/usr/local/apache2",
		Cmd:          []string{"httpd-foreground"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
		StopSignal:   "SIGWINCH",
	}
	return spec, nil
}

// nonewprivs is e2e-test-images/nonewprivs:1.3: a setuid-root program as
// the entrypoint. No default USER: the specs always set RunAsUser, and
// running as root by default means a runtime that ignored RunAsUser fails
// the no_new_privs spec instead of passing it by accident.
func (b *builder) nonewprivs() (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(
		regFile("usr/local/bin/nnp", 0o4755, b.standins["nonewprivs"]),
	), gzipped, "podshim: setuid nnp")
	if err != nil {
		return imageSpec{}, fmt.Errorf("nonewprivs layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{
		Env:        []string{defaultPath},
		Entrypoint: []string{"/usr/local/bin/nnp"},
	}
	return spec, nil
}

// pause is pause:3.9: the pause stand-in as entrypoint, run as 65535 like
// the real image, so it also works as a runtime's sandbox image.
func (b *builder) pause() (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(
		regFile("pause", 0o755, b.standins["pause"]),
	), gzipped, "podshim: pause stand-in")
	if err != nil {
		return imageSpec{}, fmt.Errorf("pause layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config = v1.Config{
		Env:        []string{defaultPath},
		Entrypoint: []string{"/pause"},
		User:       "65535:65535",
		WorkingDir: "/",
	}
	return spec, nil
}
