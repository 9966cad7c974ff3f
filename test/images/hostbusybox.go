// SPDX-License-Identifier: Apache-2.0

package images

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// hostBusyboxPath is where Debian's busybox package installs the binary.
const hostBusyboxPath = "/bin/busybox"

// hostBusybox is what the base image takes from the host: Debian's
// dynamically linked busybox, the shared objects it loads and its applet
// list. Dynamic on purpose: busybox-static's ash runs applets inside the
// shell process, while critest's specs (MaskedPaths, pgrep, pidof...) need
// every command to be a real, separate process.
type hostBusybox struct {
	binary  TarEntry
	libs    []TarEntry
	applets []string // paths relative to /, as `busybox --list-full` prints them
}

func readHostBusybox() (*hostBusybox, error) {
	if err := requireDynamic(hostBusyboxPath); err != nil {
		return nil, err
	}
	bin, err := hostFile(hostBusyboxPath, "bin/busybox")
	if err != nil {
		return nil, err
	}
	libPaths, err := sharedLibraries(hostBusyboxPath)
	if err != nil {
		return nil, err
	}
	hb := &hostBusybox{binary: bin}
	for _, p := range libPaths {
		lib, err := hostFile(p, strings.TrimPrefix(p, "/"))
		if err != nil {
			return nil, err
		}
		hb.libs = append(hb.libs, lib)
	}
	if hb.applets, err = appletPaths(hostBusyboxPath); err != nil {
		return nil, err
	}
	return hb, nil
}

// requireDynamic fails early, with the fix, when busybox-static is
// installed instead of busybox.
func requireDynamic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("open %s (apt-get install busybox): %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return nil
		}
	}
	return fmt.Errorf("%s is statically linked; the test images need Debian's dynamically linked busybox (apt-get install busybox, not busybox-static)", path)
}

// hostFile reads a host file (following symlinks) into a root-owned entry
// named name, keeping only its permission bits.
func hostFile(path, name string) (TarEntry, error) {
	st, err := os.Stat(path)
	if err != nil {
		return TarEntry{}, fmt.Errorf("stat %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return TarEntry{}, fmt.Errorf("read %s: %w", path, err)
	}
	return regFile(name, int64(st.Mode().Perm()), data), nil
}

// sharedLibraries returns the absolute paths ldd reports for bin: the
// dynamic loader and every library, transitively. The paths are kept as
// ldd prints them because that is where the loader will look inside the
// image (/lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/libc.so.6...).
func sharedLibraries(bin string) ([]string, error) {
	cmd := exec.Command("ldd", bin)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w: %s", bin, err, stderr.String())
	}
	seen := map[string]bool{}
	var paths []string
	for _, line := range strings.Split(string(out), "\n") {
		// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
		// "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO has no path.
		fields := strings.Fields(line)
		if i := indexOf(fields, "=>"); i >= 0 {
			fields = fields[i+1:]
		}
		if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
			continue
		}
		p := filepath.Clean(fields[0])
		if !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("ldd %s reported no shared libraries: %q", bin, out)
	}
	sort.Strings(paths)
	return paths, nil
}

func indexOf(fields []string, s string) int {
	for i, f := range fields {
		if f == s {
			return i
		}
	}
	return -1
}

// appletPaths asks busybox where each applet belongs.
func appletPaths(bin string) ([]string, error) {
	out, err := exec.Command(bin, "--list-full").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list-full: %w", bin, err)
	}
	var paths []string
	for _, p := range strings.Fields(string(out)) {
		p = strings.Trim(p, "/")
		// linuxrc is the initrd entry point, meaningless in a container;
		// bin/busybox is the binary itself.
		if p == "linuxrc" || p == "bin/busybox" || p == "" {
			continue
		}
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths, nil
}
