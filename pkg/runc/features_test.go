// SPDX-License-Identifier: Apache-2.0

package runc

import (
	"context"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestParseFeatures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		doc      string
		rro, usr bool
	}{
		{"runc 1.2+", `{"ociVersionMin":"1.0.0","mountOptions":["ro","rro","bind"],
			"linux":{"namespaces":["cgroup","user","mount"],"mountExtensions":{"idmap":{"enabled":true}}}}`, true, true},
		{"no idmap", `{"mountOptions":["ro"],"linux":{"namespaces":["user"],"mountExtensions":{"idmap":{"enabled":false}}}}`, false, false},
		{"no user namespace", `{"mountOptions":["rro"],"linux":{"namespaces":["mount"],"mountExtensions":{"idmap":{"enabled":true}}}}`, true, false},
		{"empty", `{}`, false, false},
	} {
		f, err := parseFeatures([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !f.Probed || f.RecursiveReadOnly != tc.rro || f.UserNamespaces != tc.usr {
			t.Errorf("%s: got %+v, want rro=%v userns=%v", tc.name, f, tc.rro, tc.usr)
		}
	}
	if _, err := parseFeatures([]byte("unknown command features")); err == nil {
		t.Error("a non-JSON answer parsed")
	}
}

// A binary without a features subcommand reports nothing as supported.
func TestProbeFeaturesWithoutSubcommand(t *testing.T) {
	f := ProbeFeatures(context.Background(), "/bin/false")
	if f.Probed || f.RecursiveReadOnly || f.UserNamespaces || f.Error == "" {
		t.Fatalf("got %+v, want nothing supported and an error", f)
	}
}

func TestSpecVersion(t *testing.T) {
	for _, tc := range []struct {
		f    Features
		want string
	}{
		{Features{}, "1.0.2"},
		{Features{Probed: true}, "1.0.2"},
		{Features{Probed: true, OCIVersionMax: "1.1.0"}, "1.1.0"},
		{Features{Probed: true, OCIVersionMax: "1.2.0-dev"}, "1.2.0-dev"},
		{Features{Probed: true, OCIVersionMax: "9.0.0"}, specs.Version},
	} {
		if got := (&Runtime{features: tc.f}).SpecVersion(); got != tc.want {
			t.Errorf("%+v: SpecVersion %q, want %q", tc.f, got, tc.want)
		}
	}
}
