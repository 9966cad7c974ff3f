// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"syscall"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestStopSignal(t *testing.T) {
	for _, c := range []struct {
		cri   runtimeapi.Signal
		image string
		want  syscall.Signal
	}{
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "", syscall.SIGTERM},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "SIGQUIT", syscall.SIGQUIT},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "QUIT", syscall.SIGQUIT},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "3", syscall.SIGQUIT},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "sigwinch", syscall.SIGWINCH},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "SIGRTMIN+3", 37},
		{runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT, "RTMAX", 64},
		{runtimeapi.Signal_SIGNAL_SIGINT, "SIGQUIT", syscall.SIGINT},
		{runtimeapi.Signal_SIGNAL_SIGUSR1, "", syscall.SIGUSR1},
		{runtimeapi.Signal_SIGNAL_SIGKILL, "", syscall.SIGKILL},
		{runtimeapi.Signal_SIGNAL_SIGCLD, "", syscall.SIGCHLD},
		{runtimeapi.Signal_SIGNAL_SIGRTMIN, "", 34},
		{runtimeapi.Signal_SIGNAL_SIGRTMINPLUS1, "", 35},
		{runtimeapi.Signal_SIGNAL_SIGRTMAXMINUS1, "", 63},
		{runtimeapi.Signal_SIGNAL_SIGRTMAX, "", 64},
	} {
		cfg := &runtimeapi.ContainerConfig{StopSignal: c.cri}
		got, err := StopSignal(cfg, ocispec.ImageConfig{StopSignal: c.image})
		if err != nil || got != c.want {
			t.Errorf("cri %v image %q: %v %v, want %v", c.cri, c.image, got, err, c.want)
		}
	}
	for _, bad := range []string{"SIGNOPE", "0", "65", "RTMIN-1", "RTMAX+1", "RTMIN+x"} {
		_, err := StopSignal(&runtimeapi.ContainerConfig{}, ocispec.ImageConfig{StopSignal: bad})
		checkErr(t, err, ErrInvalid, bad)
	}
	if _, err := StopSignal(&runtimeapi.ContainerConfig{StopSignal: 999}, ocispec.ImageConfig{}); err == nil {
		t.Error("an unknown CRI signal should fail")
	}
	// Every CRI signal maps to something.
	for v := range runtimeapi.Signal_name {
		if v == 0 {
			continue
		}
		if _, err := StopSignal(&runtimeapi.ContainerConfig{StopSignal: runtimeapi.Signal(v)}, ocispec.ImageConfig{}); err != nil {
			t.Errorf("CRI signal %v: %v", runtimeapi.Signal(v), err)
		}
	}
}

// ContainerStatus names the stop signal the CRI's way, whichever way it was
// given; aliases get the CRI's first name.
func TestCRISignal(t *testing.T) {
	for sig, want := range map[syscall.Signal]runtimeapi.Signal{
		syscall.SIGTERM: runtimeapi.Signal_SIGNAL_SIGTERM,
		syscall.SIGQUIT: runtimeapi.Signal_SIGNAL_SIGQUIT,
		syscall.SIGABRT: runtimeapi.Signal_SIGNAL_SIGABRT,
		syscall.SIGCHLD: runtimeapi.Signal_SIGNAL_SIGCHLD,
		35:              runtimeapi.Signal_SIGNAL_SIGRTMINPLUS1, // SIGRTMIN is 34, as glibc has it
		0:               runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT,
	} {
		if got := CRISignal(sig); got != want {
			t.Errorf("CRISignal(%d) = %v, want %v", sig, got, want)
		}
	}
	for v, name := range runtimeapi.Signal_name {
		if v == 0 {
			continue
		}
		sig, err := ParseSignal(name[len("SIGNAL_"):])
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if back := runtimeapi.Signal_name[int32(CRISignal(sig))]; back == "SIGNAL_RUNTIME_DEFAULT" {
			t.Errorf("%s does not map back", name)
		}
	}
}
