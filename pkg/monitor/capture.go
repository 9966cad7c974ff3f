// SPDX-License-Identifier: Apache-2.0

package monitor

import "os"

// defaultMaxOutput caps exec output when the caller sets no cap: the
// kubelet's own limit for ExecSync.
const defaultMaxOutput = 16 << 20

// capture keeps the first max bytes of a stream and drains the rest, so a
// flooding process neither blocks on a full pipe nor fills the monitor's
// memory.
type capture struct {
	max  int
	buf  []byte
	done chan struct{}
}

func newCapture(max int) *capture {
	return &capture{max: max, done: make(chan struct{})}
}

func (c *capture) drain(r *os.File) {
	defer close(c.done)
	chunk := make([]byte, 32*1024)
	for {
		n, err := r.Read(chunk)
		if room := c.max - len(c.buf); room > 0 {
			c.buf = append(c.buf, chunk[:min(n, room)]...)
		}
		if err != nil {
			return
		}
	}
}
