// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	digest "github.com/opencontainers/go-digest"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
)

// progressLogInterval spaces the progress lines of one download.
const progressLogInterval = 2 * time.Second

// progressReader logs a download's progress at V(2): a line when it
// starts, one every progressLogInterval while bytes arrive (bytes, total,
// rate since the last line) and one when it ends. It checks the clock on
// reads rather than running a ticker, so a stalled download logs nothing
// (the watchdog speaks for it, naming the downloads in flight) and a
// finished one leaves no timer.
type progressReader struct {
	r      io.Reader
	ref    string
	what   string // "layer" or "config"
	digest digest.Digest
	total  int64
	n      atomic.Int64 // read by downloads.describe while the download runs

	start, last time.Time
	lastN       int64
}

func newProgressReader(r io.Reader, ref, what string, d digest.Digest, total int64) *progressReader {
	now := time.Now()
	return &progressReader{r: r, ref: ref, what: what, digest: d, total: total, start: now, last: now}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	done := p.n.Add(int64(n))
	metrics.PullBytes(n)
	if v := klog.V(2); v.Enabled() {
		if now := time.Now(); now.Sub(p.last) >= progressLogInterval {
			rate := float64(done-p.lastN) / now.Sub(p.last).Seconds()
			p.last, p.lastN = now, done
			v.InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", done, "total", p.total,
				"rate", formatRate(rate), "done", false)
		}
	}
	return n, err
}

func (p *progressReader) started() {
	klog.V(2).InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", 0, "total", p.total, "done", false)
}

func (p *progressReader) finished() {
	elapsed := time.Since(p.start)
	n := p.n.Load()
	klog.V(2).InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", n, "total", p.total,
		"rate", formatRate(float64(n)/max(elapsed.Seconds(), 1e-3)), "duration", elapsed.Round(time.Millisecond), "done", true)
}

// describe is "layer sha256:… (1.2 MiB of 3.0 MiB)".
func (p *progressReader) describe() string {
	return fmt.Sprintf("%s %s (%s of %s)", p.what, p.digest, formatBytes(float64(p.n.Load())), formatBytes(float64(p.total)))
}

func formatRate(bytesPerSecond float64) string { return formatBytes(bytesPerSecond) + "/s" }

func formatBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	exp, div := 0, float64(unit)
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b/div, "KMGTP"[exp])
}

// downloads tracks the blob downloads in flight, so that a stalled pull can
// say which layers it was waiting for.
type downloads struct {
	mu     sync.Mutex
	active map[*progressReader]struct{}
}

func (d *downloads) add(p *progressReader) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.active == nil {
		d.active = map[*progressReader]struct{}{}
	}
	d.active[p] = struct{}{}
}

func (d *downloads) remove(p *progressReader) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.active, p)
}

// describe lists the downloads in flight for ref, sorted, or "" if none.
func (d *downloads) describe(ref string) string {
	d.mu.Lock()
	var out []string
	for p := range d.active {
		if p.ref == ref {
			out = append(out, p.describe())
		}
	}
	d.mu.Unlock()
	sort.Strings(out)
	return strings.Join(out, ", ")
}
