// SPDX-License-Identifier: Apache-2.0

// Package monitor is podshim's per-pod monitor and the client the daemon
// uses to drive it.
//
// One `podshim monitor` process runs per pod, detached from the daemon (its
// own session, stdio on /dev/null and Dir/monitor.log), so that containers
// keep running and logging while the daemon is down or restarting. It is a
// child sub-reaper: the init processes `runc create` leaves behind are
// reparented to it and it reaps them. It holds each container's stdio, writes
// the container's log in the CRI format, and records each exit atomically on
// disk before reporting it, so a daemon that comes back finds what happened
// even when no client was connected.
//
// The daemon talks to it over Dir/monitor.sock with a tiny protocol: one
// connection per call, one JSON request line, one JSON response line; an
// exec's output is streamed back in length-prefixed frames ending with the
// response, so the monitor never holds it. An attach carries frames both
// ways: stdin and terminal sizes in, the container's output out through a
// small bounded buffer per attachment, so a slow client loses output
// rather than stalling the container or its log. Closing the connection
// cancels the call (a Wait stops waiting, an ExecSync kills its process,
// an Attach detaches). No gRPC, no protobuf: the monitor stays a few MiB.
//
// On disk, under the monitor's directory:
//
//	monitor.sock        the socket the client dials
//	monitor.log         the monitor's own stderr (errors only)
//	<id>/state.json     pid, bundle, log path, created and started times
//	<id>/exit.json      exit code, finish time and reason, written before
//	                    any waiter learns of the exit (see ReadExit)
//	<id>/init.pid       the init's pid, as runc wrote it
//	<id>/runc-N.log, <id>/exec-N.{json,pid}  working files of one runc
//	                    call, removed when it returns
//
// A monitor cannot re-adopt the pipes of a previous one, so it is never
// restarted: if it is gone, ReadExit tells what it recorded.
package monitor
