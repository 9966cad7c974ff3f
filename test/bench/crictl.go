// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// crictl runs one crictl command against the bench's daemon and returns
// its trimmed stdout. Its config file is the bench's own (see writeConfigs).
// Like every call (see rpcContext), a started crictl is never killed: its
// own timeout bounds it; ctx only keeps a new one from starting.
func (e *env) crictl(ctx context.Context, args ...string) (string, error) {
	return e.crictlWith(ctx, e.crictlConfig, args...)
}

// crictlWith runs crictl against the runtime the config file names.
func (e *env) crictlWith(ctx context.Context, config string, args ...string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	full := append([]string{"--config", config}, args...)
	cmd := exec.Command(filepath.Join(e.bin, "crictl"), full...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("crictl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// writeJSON writes a CRI config for crictl. crictl reads it with
// sigs.k8s.io/yaml, i.e. through the types' json tags, which
// encoding/json writes.
func (e *env) writeJSON(name string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	p := filepath.Join(e.work, "configs", name)
	return p, os.WriteFile(p, data, 0o600)
}
