// SPDX-License-Identifier: Apache-2.0

// Package records keeps small state records, one JSON file each, written
// atomically so a crash leaves the old record or the new one, never a torn
// one. Every RPC that changes state writes its record before it returns, so
// a restarted daemon knows everything the one before it knew.
package records

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/podshim/podshim/pkg/atomicfile"
)

// ErrNotFound means no record has that ID (or unique ID prefix).
var ErrNotFound = errors.New("not found")

// ErrNameTaken means another record already holds the name.
var ErrNameTaken = errors.New("name is already in use")

// Codec turns a record into bytes and back; records may hold protobuf
// messages, which need protojson rather than encoding/json.
type Codec[T any] struct {
	Marshal   func(*T) ([]byte, error)
	Unmarshal func([]byte) (*T, error)
	// ID and Name read a record's unique ID and unique name.
	ID   func(*T) string
	Name func(*T) string
	// Created orders List.
	Created func(*T) int64
}

// Store is a directory of records plus an in-memory index. Stored records
// are treated as immutable: an update stores a changed copy.
type Store[T any] struct {
	dir   string
	codec Codec[T]
	mu    sync.RWMutex
	byID  map[string]*T
	names map[string]string // name -> ID, including names reserved mid-create
}

// Open loads every record in dir, removing writes a crash interrupted.
func Open[T any](dir string, codec Codec[T]) (*Store[T], error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("records %s: %w", dir, err)
	}
	s := &Store[T]{dir: dir, codec: codec, byID: map[string]*T{}, names: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("records %s: %w", dir, err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		// A write a crash interrupted: the record's old content (if any)
		// is still in place. (".tmp" is the suffix older versions used.)
		if atomicfile.IsTemp(e.Name()) || strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(path)
			continue
		}
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("records: %w", err)
		}
		r, err := codec.Unmarshal(data)
		if err != nil {
			return nil, fmt.Errorf("records: %s: %w", path, err)
		}
		s.byID[codec.ID(r)] = r
		s.names[codec.Name(r)] = codec.ID(r)
	}
	return s, nil
}

// Reserve claims a name for a record being created.
func (s *Store[T]) Reserve(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.names[name]; ok {
		return fmt.Errorf("%w: %q is used by %s", ErrNameTaken, name, other)
	}
	s.names[name] = id
	return nil
}

// Release frees a reserved name whose record was never stored.
func (s *Store[T]) Release(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] == id {
		delete(s.names, name)
	}
}

// Put writes the record durably, then makes it visible.
func (s *Store[T]) Put(r *T) error {
	data, err := s.codec.Marshal(r)
	if err != nil {
		return err
	}
	id := s.codec.ID(r)
	if err := atomicfile.WriteFile(filepath.Join(s.dir, id+".json"), data, 0o600); err != nil {
		return fmt.Errorf("store record %s: %w", id, err)
	}
	s.mu.Lock()
	s.byID[id] = r
	s.names[s.codec.Name(r)] = id
	s.mu.Unlock()
	return nil
}

// Delete forgets a record; deleting an unknown one is not an error.
func (s *Store[T]) Delete(id string) error {
	if err := atomicfile.Remove(filepath.Join(s.dir, id+".json")); err != nil {
		return fmt.Errorf("delete record %s: %w", id, err)
	}
	s.mu.Lock()
	if r, ok := s.byID[id]; ok {
		if name := s.codec.Name(r); s.names[name] == id {
			delete(s.names, name)
		}
		delete(s.byID, id)
	}
	s.mu.Unlock()
	return nil
}

// Get finds a record by full ID or unique ID prefix, as crictl users type.
func (s *Store[T]) Get(idOrPrefix string) (*T, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.byID[idOrPrefix]; ok {
		return r, nil
	}
	var found *T
	if idOrPrefix != "" {
		for id, r := range s.byID {
			if strings.HasPrefix(id, idOrPrefix) {
				if found != nil {
					return nil, fmt.Errorf("%w: %q matches more than one", ErrNotFound, idOrPrefix)
				}
				found = r
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, idOrPrefix)
	}
	return found, nil
}

// List returns every record, oldest first.
func (s *Store[T]) List() []*T {
	s.mu.RLock()
	out := make([]*T, 0, len(s.byID))
	for _, r := range s.byID {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return s.codec.Created(out[i]) < s.codec.Created(out[j]) })
	return out
}
