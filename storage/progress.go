// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"io"
	"time"

	digest "github.com/opencontainers/go-digest"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
)

// progressLogInterval spaces the progress lines of one download.
const progressLogInterval = 2 * time.Second

// progressReader logs a download's progress at V(2). It checks the clock
// on reads rather than running a ticker, so a stalled download logs
// nothing (the watchdog speaks for it) and a finished one leaves no timer.
type progressReader struct {
	r      io.Reader
	ref    string
	what   string // "layer" or "config"
	digest digest.Digest
	total  int64
	n      int64
	last   time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	metrics.PullBytes(n)
	if v := klog.V(2); v.Enabled() && time.Since(p.last) >= progressLogInterval {
		p.last = time.Now()
		v.InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", p.n, "total", p.total, "done", false)
	}
	return n, err
}

func (p *progressReader) started() {
	klog.V(2).InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", 0, "total", p.total, "done", false)
}

func (p *progressReader) finished() {
	klog.V(2).InfoS("Pull progress", "ref", p.ref, p.what, p.digest, "bytes", p.n, "total", p.total, "done", true)
}
