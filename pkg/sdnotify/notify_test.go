// SPDX-License-Identifier: Apache-2.0

package sdnotify

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// listen is a fake service manager: a datagram socket like systemd's.
func listen(t *testing.T, addr string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func receive(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

func TestReadyReachesTheServiceManager(t *testing.T) {
	for name, addr := range map[string]string{
		"path":     filepath.Join(t.TempDir(), "notify.sock"),
		"abstract": "@podshim-sdnotify-test-" + filepath.Base(t.TempDir()),
	} {
		t.Run(name, func(t *testing.T) {
			conn := listen(t, addr)
			t.Setenv("NOTIFY_SOCKET", addr)
			n := FromEnv()
			if _, set := os.LookupEnv("NOTIFY_SOCKET"); set {
				t.Fatal("NOTIFY_SOCKET left for child processes to inherit")
			}
			if !n.Enabled() {
				t.Fatal("not enabled with NOTIFY_SOCKET set")
			}
			if err := n.Notify("READY=1", "STATUS=serving"); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, conn); got != "READY=1\nSTATUS=serving" {
				t.Fatalf("received %q", got)
			}
		})
	}
}

func TestNoSocketSendsNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := FromEnv()
	if n.Enabled() {
		t.Fatal("enabled without NOTIFY_SOCKET")
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Fatalf("no service manager is not an error: %v", err)
	}
}

func TestGoneServiceManagerIsAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "none.sock"))
	if err := FromEnv().Notify("READY=1"); err == nil {
		t.Fatal("sending to a missing socket succeeded")
	}
}
