// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestProcessArgs(t *testing.T) {
	image := ocispec.ImageConfig{Entrypoint: []string{"/entry", "-x"}, Cmd: []string{"serve", "--port=80"}}
	for _, c := range []struct {
		name          string
		command, args []string
		image         ocispec.ImageConfig
		want          []string
	}{
		{"image only", nil, nil, image, []string{"/entry", "-x", "serve", "--port=80"}},
		{"CRI args replace Cmd", nil, []string{"debug"}, image, []string{"/entry", "-x", "debug"}},
		{"CRI command drops Entrypoint and Cmd", []string{"/bin/sh"}, nil, image, []string{"/bin/sh"}},
		{"CRI command and args", []string{"/bin/sh"}, []string{"-c", "true"}, image, []string{"/bin/sh", "-c", "true"}},
		{"Cmd without Entrypoint", nil, nil, ocispec.ImageConfig{Cmd: []string{"/app"}}, []string{"/app"}},
		{"CRI args without any Entrypoint", nil, []string{"/bin/true"}, ocispec.ImageConfig{Cmd: []string{"/app"}}, []string{"/bin/true"}},
		{"Entrypoint cleared with [\"\"]", nil, nil, ocispec.ImageConfig{Entrypoint: []string{""}, Cmd: []string{"/app"}}, []string{"/app"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := testInput()
			in.Config.Command, in.Config.Args, in.Image = c.command, c.args, c.image
			if got := mustSpec(t, in).Process.Args; !slices.Equal(got, c.want) {
				t.Errorf("args %q, want %q", got, c.want)
			}
		})
	}
	in := testInput()
	in.Config.Command = nil
	wantErr(t, in, ErrInvalid, "no command specified")
}

func TestEnv(t *testing.T) {
	in := testInput()
	in.Image.Env = []string{"PATH=/opt/bin:/bin", "LANG=C", "MODE=image"}
	in.Config.Envs = []*runtimeapi.KeyValue{
		{Key: "MODE", Value: []byte("cri")},
		{Key: "EMPTY", Value: nil},
		{Key: "EQ", Value: []byte("a=b")},
	}
	want := []string{"PATH=/opt/bin:/bin", "HOSTNAME=web-0", "LANG=C", "MODE=cri", "EMPTY=", "EQ=a=b"}
	if got := mustSpec(t, in).Process.Env; !slices.Equal(got, want) {
		t.Errorf("env %q, want %q", got, want)
	}

	in = testInput()
	in.Config.Envs = []*runtimeapi.KeyValue{{Key: "HOSTNAME", Value: []byte("mine")}}
	want = []string{DefaultPath, "HOSTNAME=mine"}
	if got := mustSpec(t, in).Process.Env; !slices.Equal(got, want) {
		t.Errorf("env %q, want the default PATH and the CRI's HOSTNAME: %q", got, want)
	}
}

func TestWorkingDir(t *testing.T) {
	for _, c := range []struct{ cri, image, want string }{
		{"", "", "/"},
		{"", "/srv", "/srv"},
		{"/work", "/srv", "/work"},
		{"/work/../data/", "", "/data"},
	} {
		in := testInput()
		in.Config.WorkingDir, in.Image.WorkingDir = c.cri, c.image
		if got := mustSpec(t, in).Process.Cwd; got != c.want {
			t.Errorf("cri %q image %q: cwd %q, want %q", c.cri, c.image, got, c.want)
		}
	}
	in := testInput()
	in.Config.WorkingDir = "relative"
	wantErr(t, in, ErrInvalid, "relative")
}

func TestProcessBasics(t *testing.T) {
	in := testInput()
	in.Config.Tty = true
	in.Nofile = 4096
	s := mustSpec(t, in)
	if !s.Process.Terminal {
		t.Error("tty should give a terminal")
	}
	if len(s.Process.Rlimits) != 1 || s.Process.Rlimits[0].Type != "RLIMIT_NOFILE" || s.Process.Rlimits[0].Soft != 4096 || s.Process.Rlimits[0].Hard != 4096 {
		t.Errorf("rlimits %+v", s.Process.Rlimits)
	}
	in.Nofile = 0
	if s := mustSpec(t, in); len(s.Process.Rlimits) != 0 {
		t.Errorf("no Nofile should leave the inherited limit: %+v", s.Process.Rlimits)
	}
	if s.Root.Path != in.RootfsPath || s.Root.Readonly {
		t.Errorf("root %+v", s.Root)
	}
	if s.Linux.CgroupsPath != in.CgroupsPath {
		t.Errorf("cgroups path %q", s.Linux.CgroupsPath)
	}
	if s.Hostname != "" {
		t.Error("the hostname comes from the pod's UTS namespace, not the spec")
	}
}
