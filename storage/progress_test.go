// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestFormatBytes(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB",
		3 << 20: "3.0 MiB", 5 << 30: "5.0 GiB",
	} {
		if got := formatBytes(in); got != want {
			t.Errorf("formatBytes(%v) = %q, want %q", in, got, want)
		}
	}
}

// At -v=2 every blob of a pull logs a line as it starts and one as it
// ends, with its bytes, total and rate.
func TestPullProgressLinesAtV2(t *testing.T) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	var buf bytes.Buffer
	fs.Set("logtostderr", "false")
	fs.Set("v", "2")
	klog.SetOutput(&buf)
	t.Cleanup(func() {
		fs.Set("v", "0")
		fs.Set("logtostderr", "true")
		klog.SetOutput(nil)
	})

	reg := newTestRegistry(t)
	img := simpleImage(t, "progress")
	ref := reg.push("progress", "1", img)
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatal(err)
	}
	klog.Flush()
	out := buf.String()
	for _, d := range img.layerBlobs {
		var start, end bool
		for _, line := range strings.Split(out, "\n") {
			if !strings.Contains(line, `"Pull progress"`) || !strings.Contains(line, d.String()) {
				continue
			}
			start = start || strings.Contains(line, "bytes=0 ") && strings.Contains(line, "done=false")
			end = end || strings.Contains(line, "done=true") && strings.Contains(line, "rate=") && strings.Contains(line, "total=")
		}
		if !start || !end {
			t.Errorf("layer %s: start line %v, end line %v in:\n%s", d, start, end, out)
		}
	}
}
