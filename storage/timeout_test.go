// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentListener accepts connections and never answers on them.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestProgressTimeoutOnASilentRegistry(t *testing.T) {
	host := silentListener(t)
	s := newTestStore(t, Options{ProgressTimeout: 300 * time.Millisecond})
	// The caller's own deadline is far away: only the watchdog can end this.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.Pull(ctx, host+"/app:1", nil)
	if !errors.Is(err, ErrProgressTimeout) {
		t.Fatalf("Pull = %v, want ErrProgressTimeout", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("a progress timeout reads as a context error: %v", err)
	}
	if !strings.Contains(err.Error(), host) || !strings.Contains(err.Error(), host+"/app:1") {
		t.Errorf("error %q does not name the ref and the stalled host", err)
	}
}

func TestProgressTimeoutOnABlobThatStalls(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "stall")
	ref := reg.push("stall", "1", img)
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, img.layerBlobs[0].String()) {
			w.Write(img.blobs[0][:10])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		next.ServeHTTP(w, r)
	})
	s := newTestStore(t, Options{ProgressTimeout: 300 * time.Millisecond})
	_, err := s.Pull(context.Background(), ref, nil)
	if !errors.Is(err, ErrProgressTimeout) {
		t.Fatalf("Pull = %v, want ErrProgressTimeout", err)
	}
	// The operator learns which layer stalled, and how far it got.
	if want := "while fetching layer " + img.layerBlobs[0].String() + " (10 B of "; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	assertNoContent(t, s)
}

func TestSlowButSteadyDownloadIsNotATimeout(t *testing.T) {
	reg := newTestRegistry(t)
	img := simpleImage(t, "steady")
	ref := reg.push("steady", "1", img)
	blob := img.blobs[0]
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, img.layerBlobs[0].String()) {
			// Five chunks 100ms apart: 500ms in all, longer than the
			// timeout, but never 250ms without a byte.
			chunk := len(blob)/5 + 1
			for i := 0; i < len(blob); i += chunk {
				time.Sleep(100 * time.Millisecond)
				w.Write(blob[i:min(i+chunk, len(blob))])
				w.(http.Flusher).Flush()
			}
			return
		}
		next.ServeHTTP(w, r)
	})
	s := newTestStore(t, Options{ProgressTimeout: 250 * time.Millisecond})
	if _, err := s.Pull(context.Background(), ref, nil); err != nil {
		t.Fatalf("Pull: %v", err)
	}
}

func TestUnreachableRegistryIsUnavailable(t *testing.T) {
	s := newTestStore(t, Options{})
	_, err := s.Pull(context.Background(), closedPort(t)+"/app:1", nil)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Pull = %v, want ErrUnavailable", err)
	}
}

func TestServerErrorIsUnavailable(t *testing.T) {
	reg := newTestRegistry(t)
	reg.setMiddleware(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), reg.host+"/app:1", nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Pull = %v, want ErrUnavailable", err)
	}
}

func TestUnknownRepositoryOrTagIsNotFound(t *testing.T) {
	reg := newTestRegistry(t)
	reg.push("app", "1", simpleImage(t, "x"))
	s := newTestStore(t, Options{})
	for _, ref := range []string{reg.host + "/app:2", reg.host + "/nope:1", reg.host + "/app@sha256:" + strings.Repeat("a", 64)} {
		if _, err := s.Pull(context.Background(), ref, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("Pull(%s) = %v, want ErrNotFound", ref, err)
		}
	}
}

func TestCallerDeadlineAndCancellation(t *testing.T) {
	host := silentListener(t)
	s := newTestStore(t, Options{ProgressTimeout: time.Minute})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := s.Pull(ctx, host+"/app:1", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Pull past its deadline = %v, want context.DeadlineExceeded", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := s.Pull(ctx, host+"/app:1", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Pull = %v, want context.Canceled", err)
	}
}
