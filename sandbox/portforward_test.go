// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"context"
	"net"
	"reflect"
	"strings"
	"testing"
)

func TestForwardTargets(t *testing.T) {
	pod := &Record{NetNSPath: "/run/netns/x", IPs: []string{"10.1.2.3", "fd00::3", "garbage"}}
	want := []string{"127.0.0.1:80", "[::1]:80", "10.1.2.3:80", "[fd00::3]:80"}
	if got := forwardTargets(pod, 80); !reflect.DeepEqual(got, want) {
		t.Errorf("pod network: %v, want %v", got, want)
	}
	host := &Record{IPs: []string{"192.0.2.2"}}
	if got := forwardTargets(host, 80); !reflect.DeepEqual(got, want[:2]) {
		t.Errorf("host network: %v, want only loopback %v", got, want[:2])
	}
}

// The first address that accepts wins; one that refuses is skipped, and
// when none accepts the error names each attempt.
func TestDialFirstFallsBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := refused.Addr().String()
	refused.Close()

	conn, err := dialInNetns(context.Background(), "", []string{closedAddr, ln.Addr().String()})
	if err != nil {
		t.Fatalf("dial with a fallback: %v", err)
	}
	if got := conn.RemoteAddr().String(); got != ln.Addr().String() {
		t.Errorf("connected to %s, want the listening %s", got, ln.Addr())
	}
	conn.Close()

	_, err = dialInNetns(context.Background(), "", []string{closedAddr, closedAddr})
	if err == nil || strings.Count(err.Error(), closedAddr) != 2 {
		t.Errorf("dial with nothing listening: %v, want both attempts named", err)
	}
}
