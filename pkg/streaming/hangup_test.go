// SPDX-License-Identifier: Apache-2.0

package streaming

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve runs handler behind the stream server's listener and connection
// context, as Start does.
func serve(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler, ConnContext: hangupContext}
	go srv.Serve(hangupListener{ln})
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// A hijacked request's context ends when the client goes away: what tells
// Exec and Attach their client has gone.
func TestHijackedRequestContextEndsWithTheClient(t *testing.T) {
	hijacked := make(chan struct{})
	ended := make(chan error, 1)
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			ended <- err
			return
		}
		defer conn.Close()
		// Read like a stream's frame reader, which is what sees the EOF.
		go func() {
			buf := make([]byte, 64)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
			}
		}()
		close(hijacked)
		select {
		case <-r.Context().Done():
			ended <- nil
		case <-time.After(30 * time.Second):
			ended <- fmt.Errorf("context still live 30s after the client left")
		}
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /exec HTTP/1.1\r\nHost: x\r\n\r\n")
	<-hijacked
	c.Close()
	if err := <-ended; err != nil {
		t.Fatal(err)
	}
}

// Requests on a kept-alive connection keep a live context: net/http's own
// read deadlines do not count as the client leaving.
func TestKeepAliveRequestsKeepTheirContext(t *testing.T) {
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if err := r.Context().Err(); err != nil {
			http.Error(w, err.Error(), http.StatusGone)
			return
		}
		fmt.Fprint(w, "live")
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i := 0; i < 3; i++ {
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || b.String() != "live" {
			t.Fatalf("request %d on the kept-alive connection: %d %q", i, resp.StatusCode, b.String())
		}
	}
}
