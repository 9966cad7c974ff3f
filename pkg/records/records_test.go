// SPDX-License-Identifier: Apache-2.0

package records

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/podshim/podshim/pkg/keylock"
)

type rec struct {
	ID, Name string
	Created  int64
}

func testCodec() Codec[rec] {
	return Codec[rec]{
		Marshal: func(r *rec) ([]byte, error) { return json.Marshal(r) },
		Unmarshal: func(b []byte) (*rec, error) {
			var r rec
			return &r, json.Unmarshal(b, &r)
		},
		ID:      func(r *rec) string { return r.ID },
		Name:    func(r *rec) string { return r.Name },
		Created: func(r *rec) int64 { return r.Created },
	}
}

func TestRecordsSurviveReopenAndResolvePrefixes(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, testCodec())
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"abc123", "abd456", "zzz"} {
		if err := s.Put(&rec{ID: id, Name: "n-" + id, Created: int64(3 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A write a crash interrupted is swept, not loaded.
	os.WriteFile(filepath.Join(dir, "torn.json.tmp"), []byte("{"), 0o600)

	s, err = Open(dir, testCodec())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get("abc"); err != nil || r.ID != "abc123" {
		t.Fatalf("unique prefix: %v %v", r, err)
	}
	if _, err := s.Get("ab"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an ambiguous prefix must not pick one: %v", err)
	}
	if l := s.List(); len(l) != 3 || l[0].ID != "zzz" {
		t.Fatalf("List is oldest first: %+v", l)
	}
	if _, err := os.Stat(filepath.Join(dir, "torn.json.tmp")); !os.IsNotExist(err) {
		t.Fatal("the torn write was not swept")
	}
	if err := s.Reserve("n-zzz", "other"); !errors.Is(err, ErrNameTaken) {
		t.Fatalf("a stored record's name is taken: %v", err)
	}
	if err := s.Delete("zzz"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("zzz"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := s.Reserve("n-zzz", "other"); err != nil {
		t.Fatalf("a deleted record frees its name: %v", err)
	}
}

func TestGetLockedSeesADeletionThatWon(t *testing.T) {
	s, err := Open(t.TempDir(), testCodec())
	if err != nil {
		t.Fatal(err)
	}
	var locks keylock.Set
	s.Put(&rec{ID: "x1", Name: "x"})
	unlockFirst := locks.Lock("x1")
	done := make(chan bool)
	go func() {
		_, unlock, found, err := s.GetLocked(&locks, "x1")
		if found {
			unlock()
		}
		done <- found || err != nil
	}()
	s.Delete("x1") // the first holder removes it while the second waits
	unlockFirst()
	if <-done {
		t.Fatal("GetLocked must report a record deleted while it waited as gone")
	}
	if _, _, found, err := s.GetLocked(&locks, "nope"); found || err != nil {
		t.Fatalf("an unknown record: found %v err %v", found, err)
	}
}
