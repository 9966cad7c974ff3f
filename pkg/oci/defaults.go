// SPDX-License-Identifier: Apache-2.0

// Package oci turns CRI configuration into OCI runtime specs. It has no side
// effects: every mapping is a pure function, tested without root.
package oci

// DefaultPath is the PATH a process gets when nothing else sets one.
const DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// defaultMaskedPaths hide host information and kernel knobs a container
// has no business reading; the same list the kubelet's runtimes use.
var defaultMaskedPaths = []string{
	"/proc/asound",
	"/proc/acpi",
	"/proc/interrupts",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/devices/virtual/powercap",
}

// defaultReadonlyPaths stay visible but cannot be written.
var defaultReadonlyPaths = []string{
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// DefaultMaskedPaths returns a copy of the default masked paths.
func DefaultMaskedPaths() []string { return append([]string(nil), defaultMaskedPaths...) }

// DefaultReadonlyPaths returns a copy of the default read-only paths.
func DefaultReadonlyPaths() []string { return append([]string(nil), defaultReadonlyPaths...) }
