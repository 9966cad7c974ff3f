// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"encoding/json"
	"time"
)

// The wire protocol: the client dials monitor.sock, writes one request as a
// JSON line, and reads one response as a JSON line; an exec is answered
// with frames instead (see frames.go), and an attach carries frames both
// ways (see attach.go). Closing the connection cancels the call. Fields are only ever added, so a daemon and a monitor of
// different versions (a daemon upgrade leaves old monitors running) still
// agree.

// Operation names.
const (
	opPing     = "ping"
	opCreate   = "create"
	opStart    = "start"
	opKill     = "kill"
	opState    = "state"
	opWait     = "wait"
	opDelete   = "delete"
	opExec     = "exec"
	opAttach   = "attach"
	opReopen   = "reopen-log"
	opShutdown = "shutdown"
)

// maxRequest bounds a request line: the largest is an exec's process spec.
const maxRequest = 4 << 20

type request struct {
	Op        string          `json:"op"`
	ID        string          `json:"id,omitempty"`
	Bundle    string          `json:"bundle,omitempty"`
	LogPath   string          `json:"logPath,omitempty"`
	LogDir    string          `json:"logDir,omitempty"`
	LogRel    string          `json:"logRel,omitempty"`
	Tty       bool            `json:"tty,omitempty"`
	Stdin     bool            `json:"stdin,omitempty"`
	StdinOnce bool            `json:"stdinOnce,omitempty"`
	Signal    int             `json:"signal,omitempty"`
	All       bool            `json:"all,omitempty"`
	Process   json.RawMessage `json:"process,omitempty"`
	Timeout   time.Duration   `json:"timeout,omitempty"`
	MaxOutput int             `json:"maxOutput,omitempty"`
}

// Error kinds let the client rebuild errors that callers test with
// errors.Is.
const (
	kindNotFound   = "not-found"
	kindDeadline   = "deadline"
	kindShutdown   = "shutting-down"
	kindNotRunning = "not-running"
	kindNoStdin    = "no-stdin"
)

type response struct {
	Error    string    `json:"error,omitempty"`
	Kind     string    `json:"kind,omitempty"`
	Pid      int       `json:"pid,omitempty"`
	Time     time.Time `json:"time,omitzero"`
	State    *State    `json:"state,omitempty"`
	ExitCode int       `json:"exitCode,omitempty"`
}
