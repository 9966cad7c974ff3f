// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Flag bits the kernel keeps in a segment's mode (linux/shm.h).
const (
	shmDest   = 0o1000
	shmLocked = 0o2000
)

// ipcs prints the System V IPC objects of the caller's IPC namespace in
// util-linux's layout, reading /proc/sysvipc. Supported options: -m (shared
// memory), -q (message queues), -s (semaphores), -a (all, the default).
func ipcs(args []string) int {
	var shm, msg, sem bool
	for _, a := range args {
		switch a {
		case "-m":
			shm = true
		case "-q":
			msg = true
		case "-s":
			sem = true
		case "-a":
			shm, msg, sem = true, true, true
		default:
			fmt.Fprintf(os.Stderr, "ipcs: unsupported option %q\n", a)
			return 2
		}
	}
	if !shm && !msg && !sem {
		shm, msg, sem = true, true, true
	}
	users := userNames()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if msg {
		if err := printTable(w, "/proc/sysvipc/msg", "Message Queues", "msqid",
			[]string{"used-bytes", "messages"}, []string{"cbytes", "qnum"}, users); err != nil {
			return fail(err)
		}
	}
	if shm {
		if err := printTable(w, "/proc/sysvipc/shm", "Shared Memory Segments", "shmid",
			[]string{"bytes", "nattch", "status"}, []string{"size", "nattch", ""}, users); err != nil {
			return fail(err)
		}
	}
	if sem {
		if err := printTable(w, "/proc/sysvipc/sem", "Semaphore Arrays", "semid",
			[]string{"nsems"}, []string{"nsems"}, users); err != nil {
			return fail(err)
		}
	}
	return 0
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "ipcs: %v\n", err)
	return 1
}

// printTable prints one section. The /proc file's header line names its
// columns, so values are looked up by name rather than by position; extra
// names the columns to show after key/id/owner/perms and cols the /proc
// column each comes from ("" means the derived shm status).
func printTable(w *bufio.Writer, path, title, idName string, extra, cols []string, users map[string]string) error {
	rows, err := readSysvipc(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n------ %s --------\n", title)
	fmt.Fprintf(w, "%-10s %-10s %-10s %-10s", "key", idName, "owner", "perms")
	for _, e := range extra {
		fmt.Fprintf(w, " %-10s", e)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		key, _ := strconv.ParseInt(r["key"], 10, 64)
		mode, _ := strconv.ParseUint(r["perms"], 8, 32)
		owner := r["uid"]
		if name, ok := users[owner]; ok {
			owner = name
		}
		fmt.Fprintf(w, "0x%08x %-10s %-10s %-10o", uint32(key), r[idKey(r)], owner, mode&0o777)
		for _, c := range cols {
			v := r[c]
			if c == "" {
				v = shmStatus(mode)
			}
			fmt.Fprintf(w, " %-10s", v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	return nil
}

// idKey finds the id column, which the kernel names shmid, msqid or semid.
func idKey(r map[string]string) string {
	for _, k := range []string{"shmid", "msqid", "semid"} {
		if _, ok := r[k]; ok {
			return k
		}
	}
	return ""
}

func shmStatus(mode uint64) string {
	var s []string
	if mode&shmDest != 0 {
		s = append(s, "dest")
	}
	if mode&shmLocked != 0 {
		s = append(s, "locked")
	}
	return strings.Join(s, " ")
}

// readSysvipc parses a /proc/sysvipc table into one map per row. A missing
// file (no SysV IPC in the kernel) reads as an empty table.
func readSysvipc(path string) ([]map[string]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	header := strings.Fields(lines[0])
	var rows []map[string]string
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		row := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// userNames maps uids to names from the container's /etc/passwd.
func userNames() map[string]string {
	m := map[string]string{}
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 3 {
			if _, ok := m[f[2]]; !ok {
				m[f[2]] = f[0]
			}
		}
	}
	return m
}
