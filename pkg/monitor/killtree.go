// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// killTree kills pid and every descendant of it. An exec that timed out
// may have forked (sh -c 'a; b' does); killing only its first process
// would leave the rest running in the container. The tree is stopped
// first, so nothing forks between listing and killing, and listed again
// until it no longer grows.
func killTree(pid int) {
	stopped := map[int]bool{}
	for range 5 {
		grew := false
		for _, p := range descendants(pid) {
			if !stopped[p] {
				syscall.Kill(p, syscall.SIGSTOP)
				stopped[p] = true
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	for p := range stopped {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// descendants returns root and all its descendants, from the parent pids
// in /proc.
func descendants(root int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid := parentOf(pid); ppid > 0 {
			children[ppid] = append(children[ppid], pid)
		}
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(root)); err != nil {
		return nil
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// parentOf reads the parent pid from /proc/<pid>/stat; the command name
// may hold spaces and parentheses, so fields count from the last ')'.
func parentOf(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}
