// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// pgrep implements the procps subset the specs (and people debugging a
// container) use: pgrep [-f] [-x] [-l] [-a] PATTERN. It exits 0 when a
// process matched, 1 when none did and 2 on a usage error, like procps.
func pgrep(args []string) int {
	var full, exact, listName, listFull bool
	var pattern string
	for i, a := range args {
		if a == "--" {
			if i+1 < len(args) {
				pattern = args[i+1]
			}
			break
		}
		if len(a) > 1 && a[0] == '-' {
			for _, c := range a[1:] {
				switch c {
				case 'f':
					full = true
				case 'x':
					exact = true
				case 'l':
					listName = true
				case 'a':
					listFull = true
				default:
					fmt.Fprintf(os.Stderr, "pgrep: unsupported option -%c\n", c)
					return 2
				}
			}
			continue
		}
		pattern = a
	}
	if pattern == "" {
		fmt.Fprintln(os.Stderr, "usage: pgrep [-flxa] PATTERN")
		return 2
	}
	if exact {
		pattern = "^(?:" + pattern + ")$"
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgrep: bad pattern: %v\n", err)
		return 2
	}

	matched := false
	self := os.Getpid()
	for _, pid := range listPids() {
		if pid == self {
			continue
		}
		comm, cmdline, ok := readProc(pid)
		if !ok {
			continue // exited while we looked
		}
		subject := comm
		if full {
			subject = cmdline
		}
		if !re.MatchString(subject) {
			continue
		}
		matched = true
		switch {
		case listFull:
			fmt.Printf("%d %s\n", pid, cmdline)
		case listName:
			fmt.Printf("%d %s\n", pid, comm)
		default:
			fmt.Println(pid)
		}
	}
	if !matched {
		return 1
	}
	return 0
}

// listPids returns the numeric entries of /proc in ascending order.
func listPids() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// readProc returns a process's comm and its argv joined by spaces (comm in
// brackets for kernel threads, which have no argv).
func readProc(pid int) (comm, cmdline string, ok bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	c, err := os.ReadFile(dir + "comm")
	if err != nil {
		return "", "", false
	}
	comm = strings.TrimRight(string(c), "\n")
	raw, err := os.ReadFile(dir + "cmdline")
	if err != nil {
		return "", "", false
	}
	raw = bytes.TrimRight(raw, "\x00")
	if len(raw) == 0 {
		return comm, "[" + comm + "]", true
	}
	return comm, string(bytes.ReplaceAll(raw, []byte{0}, []byte{' '})), true
}
