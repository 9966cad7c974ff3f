// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procRef names a process across time: a pid plus its start time, so a
// reused pid is never taken for the process it once was.
type procRef struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

func refOf(pid int) (procRef, error) {
	s, err := procStart(pid)
	return procRef{Pid: pid, Start: s}, err
}

func (p procRef) alive() bool {
	if p.Pid <= 0 {
		return false
	}
	s, err := procStart(p.Pid)
	return err == nil && s == p.Start
}

// procStart reads field 22 of /proc/<pid>/stat (start time in clock
// ticks). The command name may hold spaces and parentheses, so fields are
// counted from the last ')'.
func procStart(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("pid %d: malformed stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return 0, fmt.Errorf("pid %d: short stat", pid)
	}
	return strconv.ParseUint(f[19], 10, 64)
}

// memSample is one process's memory, in KiB. RSS counts every resident
// page, shared text included; RssAnon only its private heap and stacks;
// PSS splits each shared page among its sharers, so PSS summed over many
// monitors is what they really cost together.
type memSample struct {
	RSSKiB  int64 `json:"rss_kib"`
	AnonKiB int64 `json:"rss_anon_kib"`
	PSSKiB  int64 `json:"pss_kib"`
}

func (m memSample) add(o memSample) memSample {
	return memSample{m.RSSKiB + o.RSSKiB, m.AnonKiB + o.AnonKiB, m.PSSKiB + o.PSSKiB}
}

// readMem reads VmRSS and RssAnon from /proc/<pid>/status and Pss from
// /proc/<pid>/smaps_rollup.
func readMem(pid int) (memSample, error) {
	var m memSample
	if pid <= 0 {
		return m, fmt.Errorf("no process")
	}
	status, err := kibFields(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	rollup, err := kibFields(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return m, err
	}
	var ok bool
	if m.RSSKiB, ok = status["VmRSS"]; !ok {
		return m, fmt.Errorf("pid %d: no VmRSS (a zombie?)", pid)
	}
	m.AnonKiB = status["RssAnon"]
	m.PSSKiB = rollup["Pss"]
	return m, nil
}

// kibFields parses "Name:   123 kB" lines.
func kibFields(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(rest)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			out[name] = n
		}
	}
	return out, sc.Err()
}

// allPids lists the processes of the host's pid namespace.
func allPids() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdline(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// monitors finds this daemon's pod monitors (`podshim-monitor` or
// `podshim monitor`) by their --dir below <state>/sandboxes/, and returns
// each one's pod ID. Other daemons' monitors live below other state dirs.
func monitors(state string) map[procRef]string {
	prefix := filepath.Join(state, "sandboxes") + "/"
	out := map[procRef]string{}
	for _, pid := range allPids() {
		args := cmdline(pid)
		if !isMonitor(args) {
			continue
		}
		for i, a := range args {
			dir := ""
			if a == "--dir" && i+1 < len(args) {
				dir = args[i+1]
			} else if v, ok := strings.CutPrefix(a, "--dir="); ok {
				dir = v
			}
			if rest, ok := strings.CutPrefix(dir, prefix); ok {
				if ref, err := refOf(pid); err == nil {
					out[ref] = strings.SplitN(rest, "/", 2)[0]
				}
				break
			}
		}
	}
	return out
}

func isMonitor(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch filepath.Base(args[0]) {
	case "podshim-monitor":
		return true
	case "podshim":
		return len(args) > 1 && args[1] == "monitor"
	}
	return false
}
