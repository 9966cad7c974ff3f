// SPDX-License-Identifier: Apache-2.0

// Package web is the tiny HTTP/1.x responder shared by the web-server
// stand-ins (nginx, httpd) baked into podshim's offline test images.
//
// It deliberately uses only package net rather than net/http: the stand-ins
// are compiled while the test images are built, and a smaller dependency
// graph keeps that build (and the binaries in every image) small. The
// critest specs only issue plain GET requests and check the status code and
// body, so "one request per connection, then close" is all that is needed.
package web

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Site describes what a stand-in serves.
type Site struct {
	// Server is sent as the Server response header.
	Server string
	// Page is the body returned for "/" and "/index.html".
	Page string
}

// ListenEnv lets a test run a stand-in directly on the host on a loopback
// port; inside images it is never set.
const ListenEnv = "PODSHIM_STANDIN_LISTEN"

// PidFileEnv overrides where a stand-in writes its pid file, so a test run
// on the host never touches the host's /var/run.
const PidFileEnv = "PODSHIM_STANDIN_PIDFILE"

// ListenAddr returns the address to listen on: the test override when set,
// otherwise every address on port.
func ListenAddr(port int) string {
	if addr := os.Getenv(ListenEnv); addr != "" {
		return addr
	}
	return fmt.Sprintf(":%d", port)
}

// PidFile returns the pid file path: the test override when set, otherwise
// def.
func PidFile(def string) string {
	if p := os.Getenv(PidFileEnv); p != "" {
		return p
	}
	return def
}

// Serve accepts connections on ln until it is closed, answering each with
// one response.
func Serve(ln net.Listener, site Site) error {
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("accept: %w", err)
		}
		go answer(conn, site)
	}
}

// answer reads one request head and writes one response. Errors only affect
// this connection, so they are dropped.
func answer(conn net.Conn, site Site) {
	defer conn.Close()
	// A stuck client must not pin a goroutine forever.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	// Drain the header block; request bodies are not expected.
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimRight(h, "\r\n") == "" {
			break
		}
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		writeResponse(conn, site.Server, "400 Bad Request", "bad request\n", true)
		return
	}
	method, path := fields[0], fields[1]
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	withBody := method != "HEAD"
	switch {
	case method != "GET" && method != "HEAD":
		writeResponse(conn, site.Server, "405 Not Allowed", "method not allowed\n", withBody)
	case path == "/" || path == "/index.html":
		writeResponse(conn, site.Server, "200 OK", site.Page, withBody)
	default:
		writeResponse(conn, site.Server, "404 Not Found", "not found\n", withBody)
	}
}

func writeResponse(conn net.Conn, server, status, body string, withBody bool) {
	head := fmt.Sprintf("HTTP/1.1 %s\r\nServer: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		status, server, len(body))
	if withBody {
		head += body
	}
	_, _ = conn.Write([]byte(head))
}

// WaitForStop blocks until one of sigs (or SIGTERM/SIGINT) arrives. A
// process running as PID 1 in a container ignores signals it has no handler
// for, so the stand-ins must catch their stop signals explicitly.
func WaitForStop(sigs ...os.Signal) os.Signal {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, append([]os.Signal{syscall.SIGTERM, syscall.SIGINT}, sigs...)...)
	return <-ch
}

// WritePidFile records the current pid, creating the parent directory when
// the image lacks it.
func WritePidFile(path string) error {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		if err := os.MkdirAll(path[:i], 0o755); err != nil {
			return fmt.Errorf("create pid file directory: %w", err)
		}
	}
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}
