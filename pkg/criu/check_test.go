// SPDX-License-Identifier: Apache-2.0

package criu

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckReportsWhatIsMissing(t *testing.T) {
	c := &Checker{Binary: "podshim-no-such-criu"}
	if err := c.Check(context.Background()); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not installed") {
		t.Fatalf("missing criu: %v", err)
	}

	// A criu whose check fails the way Debian's 3.17 does on kernel 6.18.
	fake := filepath.Join(t.TempDir(), "criu")
	script := "#!/bin/sh\necho 'Warn (criu/kerndat.c:1): something minor' >&2\n" +
		"echo 'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds' >&2\nexit 1\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	c = &Checker{Binary: fake}
	err := c.Check(context.Background())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Unexpected rt vDSO area bounds") || strings.Contains(err.Error(), "minor") {
		t.Fatalf("failing check: %v", err)
	}

	ok := filepath.Join(t.TempDir(), "criu")
	if err := os.WriteFile(ok, []byte("#!/bin/sh\necho Looks good.\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := (&Checker{Binary: ok}).Check(context.Background()); err != nil {
		t.Fatalf("passing check: %v", err)
	}
}
