// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ProbeRecursiveReadOnly finds out by trial whether binary applies the
// "rro" mount option, for a binary that has no `features` command to say
// so (crun before 1.9 has rro but no features). A runtime that does not
// know the option might pass it on as mount data and succeed anyway, so
// success of create proves nothing: the probe creates (never starts) a
// container whose /probe is an rro bind of a directory with a submount,
// and reads the created container's mountinfo: only a read-only submount
// counts. exe is a static binary to name as the process (never run).
func ProbeRecursiveReadOnly(ctx context.Context, binary, exe string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, featuresTimeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "podshim-rro-probe-")
	if err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	defer os.RemoveAll(dir)
	src, sub := filepath.Join(dir, "src"), filepath.Join(dir, "src", "sub")
	rootfs, root := filepath.Join(dir, "rootfs"), filepath.Join(dir, "state")
	for _, d := range []string{sub, filepath.Join(rootfs, "probe"), filepath.Join(rootfs, "dev"), root} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return false, fmt.Errorf("rro probe: %w", err)
		}
	}
	if err := copyFile(exe, filepath.Join(rootfs, "probe-exe")); err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	// The submount a plain "ro" bind would leave writable.
	if err := unix.Mount(sub, sub, "", unix.MS_BIND, ""); err != nil {
		return false, fmt.Errorf("rro probe: bind %s: %w", sub, err)
	}
	defer unix.Unmount(sub, unix.MNT_DETACH)
	id := fmt.Sprintf("podshim-rro-probe-%d", os.Getpid())
	if err := writeProbeSpec(dir, rootfs, src, id); err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	// Output goes to a file, not a pipe: runc hands its stdio to the
	// created process, which would hold a pipe open until it is deleted.
	outPath := filepath.Join(dir, "out")
	run := func(args ...string) ([]byte, error) {
		outFile, err := os.Create(outPath)
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, binary, append([]string{"--root", root}, args...)...)
		cmd.Stdout, cmd.Stderr = outFile, outFile
		err = cmd.Run()
		outFile.Close()
		out, _ := os.ReadFile(outPath)
		if err != nil {
			return out, fmt.Errorf("%s %s: %w: %s", binary, args[0], err, strings.TrimSpace(string(out)))
		}
		return out, nil
	}
	if _, err := run("create", "--bundle", dir, id); err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	defer run("delete", "--force", id)
	out, err := run("state", id)
	if err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		return false, fmt.Errorf("rro probe: state of %s: %q", id, out)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", st.Pid))
	if err != nil {
		return false, fmt.Errorf("rro probe: %w", err)
	}
	defer f.Close()
	return submountReadOnly(f, "/probe/sub")
}

// submountReadOnly reads a mountinfo and tells whether the mount at
// target has the per-mount "ro" flag.
func submountReadOnly(r io.Reader, target string) (bool, error) {
	sc := bufio.NewScanner(r)
	found, ro := false, false
	for sc.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || unescapeMountinfo(fields[4]) != target {
			continue
		}
		// The last mount at a point is the one seen there.
		found = true
		ro = false
		for _, o := range strings.Split(fields[5], ",") {
			if o == "ro" {
				ro = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	if !found {
		return false, errors.New("rro probe: the submount is missing from the container's mounts")
	}
	return ro, nil
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// writeProbeSpec writes the smallest bundle config that gets a mount
// namespace with the rro bind: no network, no devices, nothing started.
func writeProbeSpec(bundle, rootfs, src, id string) error {
	spec := specs.Spec{
		// What a binary without `features` is given (SpecVersion): crun
		// 1.8 refuses newer versions.
		Version: (&Runtime{}).SpecVersion(),
		Process: &specs.Process{Args: []string{"/probe-exe"}, Cwd: "/"},
		Root:    &specs.Root{Path: rootfs},
		Mounts: []specs.Mount{{Destination: "/probe", Type: "bind", Source: src,
			Options: []string{"rbind", "rro"}}},
		Linux: &specs.Linux{
			CgroupsPath: "/" + id,
			Namespaces:  []specs.LinuxNamespace{{Type: specs.MountNamespace}},
		},
	}
	data, err := json.Marshal(&spec)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
