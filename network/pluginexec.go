// SPDX-License-Identifier: Apache-2.0

package network

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/podshim/podshim/pkg/phase"
)

// pluginExec runs CNI plugins as libcni's own exec does, except that a
// plugin dies with podshim.
//
// Why: a plugin left running by a podshim that crashed goes on changing
// the node while the next podshim's recovery undoes the same pod: an ADD
// that finishes after recovery's DEL leaves its IP lease and masquerade
// rules behind for good (the fault-injection run found one). Killed
// together with podshim, the plugin's work is simply interrupted, which
// recovery's DEL is built to undo.
type pluginExec struct {
	version.PluginDecoder
}

var _ invoke.Exec = (*pluginExec)(nil)

func (pluginExec) FindInPath(plugin string, paths []string) (string, error) {
	return invoke.FindInPath(plugin, paths)
}

func (pluginExec) ExecPlugin(ctx context.Context, pluginPath string, stdinData []byte, environ []string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, pluginPath)
	c.Env = environ
	c.Stdin = bytes.NewReader(stdinData)
	c.Stdout = &stdout
	c.Stderr = &stderr
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// The parent-death signal fires when the thread that forked the plugin
	// ends, not the process: hold this goroutine on its thread until the
	// plugin is reaped so Go cannot retire that thread under it.
	t := phase.Start("CNI plugin "+filepath.Base(pluginPath)+" "+cniCommand(environ), cniContainerID(environ))
	runtime.LockOSThread()
	err := c.Run()
	runtime.UnlockOSThread()
	t.Step("exec")
	t.Done()
	if stderr.Len() > 0 {
		_, _ = stderr.WriteTo(os.Stderr)
	}
	if err != nil {
		return nil, pluginError(err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

func cniCommand(environ []string) string     { return envValue(environ, "CNI_COMMAND") }
func cniContainerID(environ []string) string { return envValue(environ, "CNI_CONTAINERID") }

func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// pluginError prefers the CNI error a plugin printed on stdout, as the
// spec asks plugins to report failures.
func pluginError(err error, stdout, stderr []byte) error {
	var cniErr types.Error
	if len(stdout) > 0 && json.Unmarshal(stdout, &cniErr) == nil && cniErr.Msg != "" {
		return &cniErr
	}
	if len(stdout) > 0 {
		return fmt.Errorf("netplugin failed: %w: unreadable output %q", err, stdout)
	}
	if len(stderr) > 0 {
		return fmt.Errorf("netplugin failed: %w: %q", err, bytes.TrimSpace(stderr))
	}
	return fmt.Errorf("netplugin failed with no error message: %w", err)
}
