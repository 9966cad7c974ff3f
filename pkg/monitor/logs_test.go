// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"strings"
	"testing"
)

func TestLogStreams(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("streams", "echo out1; echo err1 >&2; echo out2")
	st := e.wait("streams")
	if st.ExitCode != 0 || st.Reason != ReasonCompleted {
		t.Errorf("exit: %+v", st)
	}
	var stdout, stderr []string
	for _, r := range readLog(t, logPath) {
		if r.tag != "F" {
			t.Errorf("record %+v: want tag F", r)
		}
		if r.stream == "stdout" {
			stdout = append(stdout, r.content)
		} else {
			stderr = append(stderr, r.content)
		}
	}
	if strings.Join(stdout, ",") != "out1,out2" || strings.Join(stderr, ",") != "err1" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
}

func TestLogPartialLine(t *testing.T) {
	e := newEnv(t)
	logPath := e.run("partial", "echo whole; printf 'no newline'")
	e.wait("partial")
	recs := readLog(t, logPath)
	if len(recs) != 2 || recs[0].tag != "F" || recs[0].content != "whole" ||
		recs[1].tag != "P" || recs[1].content != "no newline" || recs[1].stream != "stdout" {
		t.Errorf("records: %+v", recs)
	}
}

func TestLogLongLine(t *testing.T) {
	e := newEnv(t)
	const size = 1 << 20
	logPath := e.run("long", "head -c 1048576 /dev/zero | tr '\\000' a; echo")
	e.wait("long")
	recs := readLog(t, logPath)
	if len(recs) != size/maxLogLine {
		t.Fatalf("got %d records, want %d", len(recs), size/maxLogLine)
	}
	var whole strings.Builder
	for i, r := range recs {
		last := i == len(recs)-1
		if (last && r.tag != "F") || (!last && r.tag != "P") || len(r.content) != maxLogLine {
			t.Fatalf("record %d: tag %s, %d bytes", i, r.tag, len(r.content))
		}
		whole.WriteString(r.content)
	}
	if whole.String() != strings.Repeat("a", size) {
		t.Error("reassembled line differs from what was written")
	}
}

func TestLogTty(t *testing.T) {
	e := newEnv(t)
	logPath := e.create(CreateRequest{ID: "tty", Tty: true}, []string{"sh", "-c", "echo hello from a tty; tty"}, withTty)
	if _, err := e.client.Start(e.ctx(), "tty"); err != nil {
		t.Fatal(err)
	}
	if st := e.wait("tty"); st.ExitCode != 0 {
		t.Errorf("exit: %+v", st)
	}
	recs := readLog(t, logPath)
	if len(recs) != 2 || recs[0].content != "hello from a tty" || !strings.HasPrefix(recs[1].content, "/dev/pts/") {
		t.Errorf("records: %+v", recs)
	}
	for _, r := range recs {
		if r.stream != "stdout" || r.tag != "F" {
			t.Errorf("record %+v: want stdout F", r)
		}
	}
}
