// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
)

// stdio is the set of descriptors one `runc create` is given.
type stdio struct {
	console *consoleReceiver // tty: runc sends the master here

	// Without a tty: the ends runc's children inherit, and ours.
	childIn, childOut, childErr *os.File
	ourIn, ourOut, ourErr       *os.File
}

func (m *monitor) newStdio(c *container, req request) (*stdio, error) {
	s := &stdio{}
	if req.Tty {
		cr, err := newConsoleReceiver(c.dir)
		if err != nil {
			return nil, err
		}
		s.console = cr
		return s, nil
	}
	var err error
	if s.ourOut, s.childOut, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if s.ourErr, s.childErr, err = os.Pipe(); err != nil {
		s.closeAll()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	if req.Stdin {
		if s.childIn, s.ourIn, err = os.Pipe(); err != nil {
			s.closeAll()
			return nil, fmt.Errorf("stdin pipe: %w", err)
		}
	}
	// Log from the start: whatever runc itself says on stderr when create
	// fails lands in the container's log, and a full pipe can never stall
	// runc.
	c.startLogging(map[string]*os.File{"stdout": s.ourOut, "stderr": s.ourErr})
	return s, nil
}

// attach hands the child ends to runc; a container without stdin reads
// /dev/null.
func (s *stdio) attach(call *runcCall) {
	if s.console != nil {
		return
	}
	if s.childIn != nil {
		call.cmd.Stdin = s.childIn
	}
	call.cmd.Stdout, call.cmd.Stderr = s.childOut, s.childErr
}

// closeChildEnds drops the monitor's copies of runc's ends once runc has
// run, so the log writers see EOF when the container's last holder exits.
func (s *stdio) closeChildEnds() {
	for _, f := range []*os.File{s.childIn, s.childOut, s.childErr} {
		if f != nil {
			f.Close()
		}
	}
}

// finish hands the monitor's ends to the container after a successful
// create.
func (s *stdio) finish(c *container) error {
	if s.console == nil {
		c.stdin = s.ourIn
		return nil
	}
	master, err := s.console.receive()
	s.console.close()
	if err != nil {
		return err
	}
	c.console = master
	c.startLogging(map[string]*os.File{"stdout": master})
	return nil
}

// abort undoes newStdio after a failed create: writers finish logging
// what runc said, then everything is closed.
func (s *stdio) abort(c *container) {
	if s.console != nil {
		s.console.close()
	}
	if s.ourIn != nil {
		s.ourIn.Close()
	}
	if c.outputs != nil {
		c.release()
		return
	}
	c.log.close()
}

func (s *stdio) closeAll() {
	for _, f := range []*os.File{s.childIn, s.childOut, s.childErr, s.ourIn, s.ourOut, s.ourErr} {
		if f != nil {
			f.Close()
		}
	}
}
