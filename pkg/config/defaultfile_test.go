// SPDX-License-Identifier: Apache-2.0

package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The printed default must load back to exactly the built-in defaults, or an
// operator who installs it gets a different daemon from one with no file.
func TestDefaultFileLoadsBackToDefaults(t *testing.T) {
	text, err := DefaultFile()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, text, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, true)
	if err != nil {
		t.Fatalf("the default file does not load: %v\n%s", err, text)
	}
	normalize(&cfg)
	want := Default()
	normalize(&want)
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("default file loads as\n%+v\nwant\n%+v", cfg, want)
	}
}

// Every key of Config is documented in the default file, so a key added
// later cannot be missing from what operators read.
func TestDefaultFileNamesEveryKey(t *testing.T) {
	text, err := DefaultFile()
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, string(text), reflect.TypeOf(Config{}), "")
}

func checkKeys(t *testing.T, text string, typ reflect.Type, prefix string) {
	t.Helper()
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		key := strings.Split(f.Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		var pattern string
		switch f.Type.Kind() {
		case reflect.Struct:
			if f.Type == reflect.TypeOf(Duration(0)) {
				break
			}
			if hasScalar(f.Type) && !strings.Contains(text, "\n["+path+"]\n") {
				t.Errorf("default file has no [%s] table", path)
			}
			checkKeys(t, text, f.Type, path)
			continue
		case reflect.Map:
			// Maps are empty by default: an example table, commented out.
			pattern = `(?m)^# \[` + regexp.QuoteMeta(path) + `[.\]]`
		}
		if pattern == "" {
			pattern = `(?m)^(# )?` + regexp.QuoteMeta(key) + ` = `
		}
		if !regexp.MustCompile(pattern).MatchString(text) {
			t.Errorf("default file does not show key %s", path)
		}
	}
}

// hasScalar tells whether a table has keys of its own, not only sub-tables.
func hasScalar(typ reflect.Type) bool {
	for i := 0; i < typ.NumField(); i++ {
		if typ.Field(i).Type.Kind() != reflect.Map {
			return true
		}
	}
	return false
}

// normalize makes nil and empty collections compare equal: TOML cannot tell
// them apart.
func normalize(c *Config) {
	if len(c.CNI.BinDirs) == 0 {
		c.CNI.BinDirs = nil
	}
	if len(c.Image.PinnedImages) == 0 {
		c.Image.PinnedImages = nil
	}
	if len(c.Registry.Mirrors) == 0 {
		c.Registry.Mirrors = nil
	}
	if len(c.Registry.Hosts) == 0 {
		c.Registry.Hosts = nil
	}
}

// A dump loads back to the config it was made from.
func TestMarshalRoundTrips(t *testing.T) {
	in := Default()
	in.Root = "/srv/podshim"
	in.Image.PinnedImages = []string{"registry.k8s.io/pause:*"}
	in.MetricsAddress = "127.0.0.1:9153"
	in.Registry.Mirrors = map[string][]string{"docker.io": {"http://127.0.0.1:5000"}}
	in.Registry.Hosts = map[string]Host{"127.0.0.1:5000": {Insecure: true}}
	b, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Load(write(t, string(b)), true)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	normalize(&in)
	normalize(&out)
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("dump loads as\n%+v\nwant\n%+v\n%s", out, in, b)
	}
}

func TestBadMetricsAddress(t *testing.T) {
	_, err := Load(write(t, `metrics_address = "9153"`), true)
	if err == nil || !strings.Contains(err.Error(), "metrics_address") {
		t.Fatalf("error %v should name metrics_address", err)
	}
}
