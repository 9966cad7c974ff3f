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

func TestCheckPodFilesRefusesInjectedLines(t *testing.T) {
	good := &runtimeapi.DNSConfig{Servers: []string{"10.0.0.10", "fd00::a", "fe80::1%eth0"}, Searches: []string{"ns.svc.cluster.local", "cluster.local"}, Options: []string{"ndots:5"}}
	if err := checkPodFiles("web-0", good); err != nil {
		t.Errorf("a kubelet's ordinary config refused: %v", err)
	}
	if err := checkPodFiles("", nil); err != nil {
		t.Errorf("no hostname and no DNS config refused: %v", err)
	}
	for name, c := range map[string]struct {
		host string
		dns  *runtimeapi.DNSConfig
	}{
		"newline in hostname": {"web\n10.0.0.1 evil", nil},
		"NUL in hostname":     {"web\x00", nil},
		"long hostname":       {strings.Repeat("a", 65), nil},
		"server not an IP":    {"web", &runtimeapi.DNSConfig{Servers: []string{"10.0.0.1\nnameserver 6.6.6.6"}}},
		"newline in search":   {"web", &runtimeapi.DNSConfig{Searches: []string{"a\noptions debug"}}},
		"space in option":     {"web", &runtimeapi.DNSConfig{Options: []string{"ndots:1 debug"}}},
		"NUL in option":       {"web", &runtimeapi.DNSConfig{Options: []string{"ndots\x00"}}},
		"empty search":        {"web", &runtimeapi.DNSConfig{Searches: []string{""}}},
	} {
		if err := checkPodFiles(c.host, c.dns); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
