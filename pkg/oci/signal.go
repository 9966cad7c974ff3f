// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"strconv"
	"strings"
	"syscall"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The real-time signals as the C library numbers them (glibc keeps 32
// and 33 for itself), which is what "SIGRTMIN+3" means in a Dockerfile.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// StopSignal returns the signal StopContainer sends first: the CRI's
// stop_signal if set, else the image's STOPSIGNAL ("SIGQUIT", "QUIT" or
// "3"), else SIGTERM.
func StopSignal(cfg *runtimeapi.ContainerConfig, image ocispec.ImageConfig) (syscall.Signal, error) {
	if sig := cfg.GetStopSignal(); sig != runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
		name, ok := runtimeapi.Signal_name[int32(sig)]
		if !ok {
			return 0, invalidf("unknown stop_signal %d", sig)
		}
		return ParseSignal(strings.TrimPrefix(name, "SIGNAL_"))
	}
	if image.StopSignal != "" {
		return ParseSignal(image.StopSignal)
	}
	return syscall.SIGTERM, nil
}

// ParseSignal parses a signal as a number ("9"), a name with or without
// its SIG prefix, in any case ("SIGKILL", "kill"), or a real-time signal
// ("SIGRTMIN+3", "RTMAX-1"; the CRI's SIGRTMINPLUS3 and SIGRTMAXMINUS1
// spellings too).
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > sigRTMax {
			return 0, invalidf("signal %d out of range 1-%d", n, sigRTMax)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	name = strings.NewReplacer("PLUS", "+", "MINUS", "-").Replace(name)
	switch name {
	case "SIGCLD":
		return syscall.SIGCHLD, nil
	case "SIGPOLL":
		return syscall.SIGIO, nil
	case "SIGIOT":
		return syscall.SIGABRT, nil
	}
	if rest, ok := strings.CutPrefix(name, "SIGRT"); ok {
		if sig, ok := realtimeSignal(rest); ok {
			return sig, nil
		}
		return 0, invalidf("unknown signal %q", s)
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, invalidf("unknown signal %q", s)
}

// realtimeSignal parses "MIN", "MIN+n", "MAX" or "MAX-n".
func realtimeSignal(s string) (syscall.Signal, bool) {
	base, sign := sigRTMin, 1
	switch {
	case strings.HasPrefix(s, "MIN"):
		s = s[3:]
	case strings.HasPrefix(s, "MAX"):
		base, sign, s = sigRTMax, -1, s[3:]
	default:
		return 0, false
	}
	off := 0
	if s != "" {
		op := "+"
		if sign < 0 {
			op = "-"
		}
		n, err := strconv.Atoi(strings.TrimPrefix(s, op))
		if !strings.HasPrefix(s, op) || err != nil || n < 0 {
			return 0, false
		}
		off = sign * n
	}
	sig := base + off
	if sig < sigRTMin || sig > sigRTMax {
		return 0, false
	}
	return syscall.Signal(sig), true
}

// criSignals maps a signal number to the CRI's name for it; where the CRI
// has two names for one signal (SIGABRT and SIGIOT), the first in the enum.
var criSignals = func() map[syscall.Signal]runtimeapi.Signal {
	out := map[syscall.Signal]runtimeapi.Signal{}
	for v := int32(1); ; v++ {
		name, ok := runtimeapi.Signal_name[v]
		if !ok {
			return out
		}
		if sig, err := ParseSignal(strings.TrimPrefix(name, "SIGNAL_")); err == nil {
			if _, seen := out[sig]; !seen {
				out[sig] = runtimeapi.Signal(v)
			}
		}
	}
}()

// CRISignal is sig as ContainerStatus.stop_signal reports it; a signal the
// CRI cannot name (or none) is RUNTIME_DEFAULT.
func CRISignal(sig syscall.Signal) runtimeapi.Signal {
	return criSignals[sig]
}
