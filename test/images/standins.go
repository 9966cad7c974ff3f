// SPDX-License-Identifier: Apache-2.0

package images

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// standinSources are the stand-ins' sources, embedded so that images can be
// built by any binary (test-registry, a test) from any directory, without
// finding the repository on disk.
//
//go:embed standins
var standinSources embed.FS

// standinModule is the module path the stand-ins are built as. It matches
// their import path inside podshim's module, so the shared internal package
// resolves the same way in both builds.
const standinModule = "github.com/podshim/podshim/test/images/standins"

// standinNames are the stand-in programs (directories under standins/).
var standinNames = []string{"httpd", "nginx", "nonewprivs", "pause", "procutils"}

// buildStandins compiles every stand-in for linux/goarch and returns the
// binaries by name.
//
// They are built as their own throw-away module (standard library only)
// with every setting that ends up in the binary pinned: no cgo, -trimpath,
// no build id, no VCS stamp, no symbol table, a fixed GOAMD64/GOARM64 level
// and the user's go env ignored. The result depends only on the sources and
// the Go toolchain, so the images stay byte-for-byte reproducible.
func buildStandins(goarch string) (map[string][]byte, error) {
	goBin, err := findGo()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "podshim-standins-")
	if err != nil {
		return nil, fmt.Errorf("create stand-in build dir: %w", err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src")
	if err := copyStandinSources(src); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "out") + string(filepath.Separator)
	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", out}
	for _, n := range standinNames {
		args = append(args, "./"+n)
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = src
	cmd.Env = standinBuildEnv(goarch)
	if os.Getenv("GOCACHE") == "" && os.Getenv("XDG_CACHE_HOME") == "" && os.Getenv("HOME") == "" {
		// go build refuses to run without a cache; a private one will do.
		cmd.Env = append(cmd.Env, "GOCACHE="+filepath.Join(dir, "cache"))
	}
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build stand-ins: %w: %s", err, stderr.String())
	}
	bins := map[string][]byte{}
	for _, n := range standinNames {
		b, err := os.ReadFile(filepath.Join(out, n))
		if err != nil {
			return nil, fmt.Errorf("read built stand-in: %w", err)
		}
		bins[n] = b
	}
	return bins, nil
}

// copyStandinSources writes the embedded sources plus a go.mod to dir.
func copyStandinSources(dir string) error {
	err := fs.WalkDir(standinSources, "standins", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, strings.TrimPrefix(path, "standins"))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := standinSources.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		return fmt.Errorf("copy stand-in sources: %w", err)
	}
	gomod := "module " + standinModule + "\n\ngo 1.26\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		return fmt.Errorf("write stand-in go.mod: %w", err)
	}
	return nil
}

// standinBuildEnv is the caller's environment (for HOME, GOCACHE, GOPATH)
// with every variable that could change the output overridden.
func standinBuildEnv(goarch string) []string {
	pinned := map[string]string{
		"GOOS":         "linux",
		"GOARCH":       goarch,
		"GOAMD64":      "v1",
		"GOARM64":      "v8.0",
		"CGO_ENABLED":  "0",
		"GOFLAGS":      "",
		"GOENV":        "off",
		"GOWORK":       "off",
		"GOTOOLCHAIN":  "local",
		"GOEXPERIMENT": "",
		"GOFIPS140":    "off",
		"GO111MODULE":  "on",
		"GOPROXY":      "off",
		"GODEBUG":      "",
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[k]; !ok {
			env = append(env, kv)
		}
	}
	for k, v := range pinned {
		env = append(env, k+"="+v)
	}
	return env
}

// findGo locates the go command: on PATH, else the usual install path.
func findGo() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	const fallback = "/usr/local/go/bin/go"
	if _, err := os.Stat(fallback); err == nil {
		return fallback, nil
	}
	return "", fmt.Errorf("the go command is needed to build the test images' stand-ins; it is not on PATH nor at %s", fallback)
}
