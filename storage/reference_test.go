// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestNormalize(t *testing.T) {
	d := "sha256:" + strings.Repeat("0123456789abcdef", 4)
	for in, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox:latest",
		"busybox:1.36":                    "docker.io/library/busybox:1.36",
		"library/busybox":                 "docker.io/library/busybox:latest",
		"docker.io/library/busybox:1":     "docker.io/library/busybox:1",
		"index.docker.io/library/busybox": "docker.io/library/busybox:latest",
		"user/app":                        "docker.io/user/app:latest",
		"registry.k8s.io/pause:3.10":      "registry.k8s.io/pause:3.10",
		"localhost:5000/app":              "localhost:5000/app:latest",
		"127.0.0.1:5000/team/app:v1":      "127.0.0.1:5000/team/app:v1",
		"busybox@" + d:                    "docker.io/library/busybox@" + d,
		"busybox:1@" + d:                  "docker.io/library/busybox@" + d,
		"gcr.io/project/img:tag@" + d:     "gcr.io/project/img@" + d,
	} {
		got, err := Normalize(in)
		if err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Busybox", "busybox:", "busybox@sha256:123", "a b", "busybox@sha512:" + strings.Repeat("ab", 64), ":tag"} {
		if got, err := Normalize(bad); !errors.Is(err, ErrInvalidReference) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalidReference", bad, got, err)
		}
	}
}

func TestInvalidReferences(t *testing.T) {
	s := newTestStore(t, Options{})
	if _, err := s.Pull(context.Background(), "Not Valid", nil); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("Pull = %v, want ErrInvalidReference", err)
	}
	if _, err := s.Get("Not Valid"); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("Get = %v, want ErrInvalidReference", err)
	}
	if err := s.Remove("Not Valid"); !errors.Is(err, ErrInvalidReference) {
		t.Errorf("Remove = %v, want ErrInvalidReference", err)
	}
	if _, err := s.Get("busybox"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of an image not stored = %v, want ErrNotFound", err)
	}
}

func TestGetByIDPrefix(t *testing.T) {
	s := newTestStore(t, Options{})
	common := strings.Repeat("ab", 10)
	one := "sha256:" + common + strings.Repeat("1", 44)
	two := "sha256:" + common + strings.Repeat("2", 44)
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range []string{one, two} {
			if err := saveRecord(tx, imageRecord{ID: id, Config: []byte("{}")}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(common[:12]); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("Get of a prefix two IDs share = %v, want ErrNotFound (ambiguous)", err)
	}
	if got, err := s.Get(strings.TrimPrefix(two, "sha256:")[:21]); err != nil || got.ID != two {
		t.Errorf("Get of a unique prefix = %s, %v; want %s", got.ID, err, two)
	}
	if _, err := s.Get("sha256:" + common[:11]); err == nil {
		t.Errorf("an 11-digit prefix was accepted")
	}
}
