// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// logRecord is one parsed CRI log line.
type logRecord struct {
	time    time.Time
	stream  string
	tag     string
	content string
}

// parseLog parses a CRI log, failing on any malformed line.
func parseLog(t *testing.T, data []byte) []logRecord {
	t.Helper()
	var recs []logRecord
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			t.Fatalf("log line %d lacks its newline: %q", i, line)
		}
		parts := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 4)
		if len(parts) != 4 {
			t.Fatalf("log line %d is not CRI format: %q", i, line)
		}
		ts, err := time.Parse(time.RFC3339Nano, parts[0])
		if err != nil {
			t.Fatalf("log line %d timestamp: %v", i, err)
		}
		if parts[1] != "stdout" && parts[1] != "stderr" {
			t.Fatalf("log line %d stream %q", i, parts[1])
		}
		if parts[2] != "F" && parts[2] != "P" {
			t.Fatalf("log line %d tag %q", i, parts[2])
		}
		recs = append(recs, logRecord{ts, parts[1], parts[2], parts[3]})
	}
	return recs
}

// writeThrough logs what r delivers through a criWriter and returns the
// parsed log.
func writeThrough(t *testing.T, r io.Reader) []logRecord {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log")
	l, err := openLog("", path)
	if err != nil {
		t.Fatal(err)
	}
	newCRIWriter("stdout", l).copyFrom(r)
	l.close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseLog(t, data)
}

func TestCRIWriterSplitsLines(t *testing.T) {
	long := strings.Repeat("x", 3*maxLogLine+5)
	exact := strings.Repeat("e", maxLogLine)
	input := "one\ntwo\r\n\n" + long + "\n" + exact + "\ntail"
	want := []logRecord{
		{tag: "F", content: "one"},
		{tag: "F", content: "two"},
		{tag: "F", content: ""},
		{tag: "P", content: long[:maxLogLine]},
		{tag: "P", content: long[maxLogLine : 2*maxLogLine]},
		{tag: "P", content: long[2*maxLogLine : 3*maxLogLine]},
		{tag: "F", content: long[3*maxLogLine:]},
		{tag: "F", content: exact},
		{tag: "P", content: "tail"},
	}
	// However the input is cut into reads, the records are the same.
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one-byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			got := writeThrough(t, wrap(strings.NewReader(input)))
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				if got[i].stream != "stdout" || got[i].tag != want[i].tag || got[i].content != want[i].content {
					t.Errorf("record %d: got %s %s %.20q (len %d), want %s %.20q (len %d)", i,
						got[i].stream, got[i].tag, got[i].content, len(got[i].content),
						want[i].tag, want[i].content, len(want[i].content))
				}
			}
		})
	}
}

func TestCRIWriterManyShortLines(t *testing.T) {
	input := strings.Repeat("a\n", 50000)
	got := writeThrough(t, strings.NewReader(input))
	if len(got) != 50000 {
		t.Fatalf("got %d records, want 50000", len(got))
	}
	for i, r := range got {
		if r.tag != "F" || r.content != "a" {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
}

func TestLogFileReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	l, err := openLog("", path)
	if err != nil {
		t.Fatal(err)
	}
	l.write([]byte("first\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.write([]byte("second\n"))
	if err := l.reopen(); err != nil {
		t.Fatal(err)
	}
	l.write([]byte("third\n"))
	l.close()
	l.write([]byte("dropped\n"))
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if !bytes.Equal(old, []byte("first\nsecond\n")) || !bytes.Equal(cur, []byte("third\n")) {
		t.Fatalf("rotated %q, current %q", old, cur)
	}
}

// A reopen that fails (here: a symlink planted at the log's path) keeps the
// log going to the file it had, and never follows the link.
func TestLogFileFailedReopenKeepsWriting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	l, err := openLog("", path)
	if err != nil {
		t.Fatal(err)
	}
	l.write([]byte("first\n"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "host-file")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := l.reopen(); err == nil {
		t.Fatal("reopen followed a symlink at the log path")
	}
	l.write([]byte("second\n"))
	l.close()
	if old, _ := os.ReadFile(path + ".1"); !bytes.Equal(old, []byte("first\nsecond\n")) {
		t.Errorf("after a failed reopen the old file holds %q, want both lines", old)
	}
	if got, _ := os.ReadFile(target); len(got) != 0 {
		t.Errorf("the symlink's target was written: %q", got)
	}
	if _, err := openLog("", path); err == nil {
		t.Error("openLog followed a symlink at the log path")
	}
}
