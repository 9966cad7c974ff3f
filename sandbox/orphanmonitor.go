// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killMonitorsIn ends every monitor process whose --dir is dir: the
// monitor of a pod that has no record (a crash between starting the
// monitor and writing the record) would otherwise wait for ever on a
// socket recovery is about to delete. It holds no container a record
// knows, so SIGKILL loses nothing. It returns the pids it killed, once
// each is gone (bounded).
func killMonitorsIn(dir string) []int {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	var killed []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !monitorOf(strings.Split(strings.TrimRight(string(data), "\x00"), "\x00"), dir) {
			continue
		}
		start, err := processStart(pid)
		if err != nil {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
			// Its parent (a dead daemon's, so init) reaps it.
			for deadline := time.Now().Add(2 * time.Second); alive(pid, start) && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	return killed
}

// monitorOf tells whether args are those of a monitor (`podshim monitor`
// or `podshim-monitor`) serving dir.
func monitorOf(args []string, dir string) bool {
	if len(args) < 2 {
		return false
	}
	switch filepath.Base(args[0]) {
	case "podshim-monitor":
	case "podshim":
		if args[1] != "monitor" {
			return false
		}
	default:
		return false
	}
	for i, a := range args {
		if (a == "--dir" && i+1 < len(args) && args[i+1] == dir) || a == "--dir="+dir {
			return true
		}
	}
	return false
}
