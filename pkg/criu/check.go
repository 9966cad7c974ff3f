// SPDX-License-Identifier: Apache-2.0

// Package criu tells whether this node can checkpoint and restore
// processes: CRIU installed and `criu check` content with the kernel.
package criu

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// ErrUnavailable marks a node where CRIU cannot work: not installed, or
// its kernel check fails. The message names what is missing.
var ErrUnavailable = errors.New("checkpoint/restore is not available on this node")

// checkTimeout bounds `criu check`; it finishes in well under a second.
const checkTimeout = 30 * time.Second

// Checker runs `criu check` once per daemon and keeps the answer: the
// kernel and the installed CRIU do not change while podshim runs.
type Checker struct {
	// Binary is the criu executable; empty means "criu" from $PATH.
	Binary string

	once sync.Once
	err  error
}

// Check returns nil when CRIU works here, else an error wrapping
// ErrUnavailable with CRIU's own reason.
func (c *Checker) Check(ctx context.Context) error {
	c.once.Do(func() { c.err = c.check(ctx) })
	return c.err
}

func (c *Checker) check(ctx context.Context) error {
	bin := c.Binary
	if bin == "" {
		bin = "criu"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return fmt.Errorf("%w: CRIU is not installed (%s not found; make deps installs Debian's criu)", ErrUnavailable, bin)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "check").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: `%s check` failed (%v): %s", ErrUnavailable, path, err, reason(string(out)))
	}
	return nil
}

// reason is the gist of criu's output: its error lines, else all of it.
func reason(out string) string {
	var errs []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Error") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) == 0 {
		return strings.TrimSpace(out)
	}
	return strings.Join(errs, "; ")
}
