// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// DefaultNofile is the RLIMIT_NOFILE (soft and hard) podshim gives
// container processes where the node allows it: high enough for servers,
// finite so that programs which loop over every descriptor stay fast. A
// runtime without CAP_SYS_RESOURCE cannot go above its own hard limit, so
// callers clamp it (ContainerInput.Nofile).
const DefaultNofile = 1048576

// withProcessArgs merges the CRI command and args with the image's
// Entrypoint and Cmd the way Docker does: the CRI command replaces the
// Entrypoint and then the image's Cmd is dropped too; the CRI args replace
// the Cmd.
func withProcessArgs(s *specs.Spec, in *ContainerInput) error {
	command, args := in.Config.GetCommand(), in.Config.GetArgs()
	if len(command) == 0 {
		// An Entrypoint of [""] is how a Dockerfile clears it.
		if !(len(in.Image.Entrypoint) == 1 && in.Image.Entrypoint[0] == "") {
			command = in.Image.Entrypoint
		}
		if len(args) == 0 {
			args = in.Image.Cmd
		}
	}
	argv := append(append([]string(nil), command...), args...)
	if len(argv) == 0 {
		return invalidf("no command specified: neither the container config nor the image has one")
	}
	s.Process.Args = argv
	return nil
}

// withEnv sets PATH (a default that anything else replaces), HOSTNAME (the
// pod's, as containerd does), then the image's variables and the CRI's,
// each replacing an earlier one of the same name in place.
func withEnv(s *specs.Spec, in *ContainerInput) error {
	env := []string{DefaultPath}
	if h := in.Sandbox.GetHostname(); h != "" {
		env = setEnv(env, "HOSTNAME="+h)
	}
	for _, kv := range in.Image.Env {
		env = setEnv(env, kv)
	}
	for _, kv := range in.Config.GetEnvs() {
		if kv.GetKey() == "" {
			return invalidf("environment variable with an empty name")
		}
		env = setEnv(env, kv.GetKey()+"="+string(kv.GetValue()))
	}
	s.Process.Env = env
	return nil
}

// setEnv replaces the variable of the same name as kv, or appends kv.
func setEnv(env []string, kv string) []string {
	name, _, _ := strings.Cut(kv, "=")
	for i, e := range env {
		if n, _, _ := strings.Cut(e, "="); n == name {
			env[i] = kv
			return env
		}
	}
	return append(env, kv)
}

// withCwd: the CRI's working_dir, else the image's WorkingDir, else "/".
func withCwd(s *specs.Spec, in *ContainerInput) error {
	cwd := "/"
	if wd := in.Config.GetWorkingDir(); wd != "" {
		if !path.IsAbs(wd) {
			return invalidf("working_dir %q is not an absolute path", wd)
		}
		cwd = path.Clean(wd)
	} else if wd := in.Image.WorkingDir; wd != "" {
		// Image builders store absolute paths; be lenient with old ones.
		cwd = path.Join("/", wd)
	}
	s.Process.Cwd = cwd
	return nil
}

// withRlimits sets RLIMIT_NOFILE to in.Nofile; zero leaves the limit the
// container inherits from the runtime, as containerd does.
func withRlimits(s *specs.Spec, in *ContainerInput) error {
	if in.Nofile > 0 {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: in.Nofile, Soft: in.Nofile}}
	}
	return nil
}
