// SPDX-License-Identifier: Apache-2.0

// Package doctor checks whether a node can run podshim's pods, and what a
// missing kernel feature or tool turns off. Every check looks at the node
// itself (files under /proc and /sys, test mounts, the binaries' own
// answers), never at what the node is assumed to be.
package doctor

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Status is a check's outcome.
type Status string

const (
	// OK: present and working.
	OK Status = "ok"
	// Missing: absent or not working; Result.TurnsOff says what is lost.
	Missing Status = "missing"
	// Unknown: the check could not run (not root, say).
	Unknown Status = "unknown"
)

// Result is one line of the report.
type Result struct {
	Check  string
	Status Status
	// Required: pods cannot run when this is missing.
	Required bool
	// Detail is what was found: a version, a path, an error.
	Detail string
	// TurnsOff says what does not work without it (empty when OK).
	TurnsOff string
}

// Options names what the daemon would use, as its config resolves it.
type Options struct {
	// Root is podshim's data directory: overlay and idmapped mounts are
	// tried on its filesystem (or its nearest existing parent's).
	Root string
	// Runc, Pause, Monitor are the resolved binaries (empty: not found,
	// with NotFound saying why).
	Runc, Pause, Monitor string
	NotFound             map[string]string
	// CNIConfDir and CNIBinDirs locate the pod network.
	CNIConfDir string
	CNIBinDirs []string
	// CgroupDriver is the configured driver, "cgroupfs" or "systemd".
	CgroupDriver string
	// HoldUserns is the command (argv) of a process that blocks until its
	// stdin closes; doctor starts it in a new user namespace to try an
	// idmapped mount. Empty skips that check.
	HoldUserns []string
}

// Run performs every check, in the order of the report.
func Run(opts Options) []Result {
	var out []Result
	out = append(out, checkKernel())
	out = append(out, checkCgroups(opts.CgroupDriver)...)
	out = append(out, checkMounts(opts.Root, opts.HoldUserns)...)
	out = append(out, checkSeccomp(), checkUserNamespaces())
	out = append(out, checkLSMs()...)
	out = append(out, checkRunc(opts.Runc, opts.NotFound["runc"])...)
	out = append(out, checkBinary("pause", opts.Pause, opts.NotFound["pause"], true, "every pod: the pod's infra process"))
	out = append(out, checkBinary("podshim-monitor", opts.Monitor, opts.NotFound["podshim-monitor"], false,
		"nothing: podshim runs its own `podshim monitor` instead, at about 4x the memory per pod"))
	out = append(out, checkCNI(opts.CNIConfDir, opts.CNIBinDirs))
	out = append(out, checkIptables(), checkCRIU())
	return out
}

// PodsCanRun reports whether every required check passed.
func PodsCanRun(results []Result) bool {
	for _, r := range results {
		if r.Required && r.Status != OK {
			return false
		}
	}
	return true
}

// Write prints results as a table, then one line of verdict.
func Write(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL\tWITHOUT IT")
	for _, r := range results {
		status := string(r.Status)
		if r.Required && r.Status != OK {
			status += " (required)"
		}
		turnsOff := "-"
		if r.Status != OK && r.TurnsOff != "" {
			turnsOff = r.TurnsOff
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Check, status, oneLine(r.Detail), turnsOff)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if PodsCanRun(results) {
		_, err := fmt.Fprintln(w, "\npods can run on this node")
		return err
	}
	var missing []string
	for _, r := range results {
		if r.Required && r.Status != OK {
			missing = append(missing, r.Check)
		}
	}
	_, err := fmt.Fprintf(w, "\npods cannot run on this node: %s\n", strings.Join(missing, ", "))
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	return s
}
