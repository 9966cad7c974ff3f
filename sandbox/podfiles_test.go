// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResolvConfFromDNSConfig(t *testing.T) {
	got, err := resolvConf(&runtimeapi.DNSConfig{
		Servers: []string{"10.10.10.10", "10.0.0.2"}, Searches: []string{"google.com", "svc.local"}, Options: []string{"ndots:8"},
	}, "/nonexistent")
	if err != nil {
		t.Fatal(err)
	}
	want := "search google.com svc.local\nnameserver 10.10.10.10\nnameserver 10.0.0.2\noptions ndots:8\n"
	if string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestResolvConfDefaultsToTheHosts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(p, []byte("nameserver 192.0.2.53\n"), 0o644)
	got, err := resolvConf(nil, p)
	if err != nil || string(got) != "nameserver 192.0.2.53\n" {
		t.Fatalf("%q %v", got, err)
	}
}

func TestHostsFileNamesThePod(t *testing.T) {
	got := string(hostsFile("web-0", []string{"10.89.0.5", "fd00::5"}))
	for _, want := range []string{"127.0.0.1\tlocalhost\n", "10.89.0.5\tweb-0\n", "fd00::5\tweb-0\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("hosts file lacks %q:\n%s", want, got)
		}
	}
}
