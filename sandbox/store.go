// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// ErrNotFound means no sandbox has that ID (or ID prefix).
var ErrNotFound = errors.New("pod sandbox not found")

// ErrNameTaken means another sandbox already has the same metadata.
var ErrNameTaken = errors.New("pod sandbox name is already in use")

// store keeps one JSON file per sandbox, each replaced atomically, plus an
// in-memory index. Records are immutable once stored: updates store a copy.
type store struct {
	dir   string
	mu    sync.RWMutex
	byID  map[string]*Record
	names map[string]string // name -> ID, including names reserved mid-create
}

func openStore(dir string) (*store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox store: %w", err)
	}
	s := &store{dir: dir, byID: map[string]*Record{}, names: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("sandbox store: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), ".tmp") {
			os.Remove(path) // a write interrupted by a crash
			continue
		}
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("sandbox store: %w", err)
		}
		r, err := unmarshalRecord(data)
		if err != nil {
			return nil, fmt.Errorf("sandbox store: %s: %w", path, err)
		}
		s.byID[r.ID] = r
		s.names[r.Name()] = r.ID
	}
	return s, nil
}

// reserve claims a name for a sandbox being created.
func (s *store) reserve(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.names[name]; ok {
		return fmt.Errorf("%w: %q is used by sandbox %s", ErrNameTaken, name, other)
	}
	s.names[name] = id
	return nil
}

// release frees a reserved name whose sandbox was never stored.
func (s *store) release(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.names[name] == id {
		delete(s.names, name)
	}
}

// put writes the record durably, then makes it visible.
func (s *store) put(r *Record) error {
	data, err := r.marshal()
	if err != nil {
		return err
	}
	path := filepath.Join(s.dir, r.ID+".json")
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return fmt.Errorf("store sandbox %s: %w", r.ID, err)
	}
	s.mu.Lock()
	s.byID[r.ID] = r
	s.names[r.Name()] = r.ID
	s.mu.Unlock()
	return nil
}

// delete forgets the sandbox; deleting an unknown one is not an error.
func (s *store) delete(id string) error {
	if err := os.Remove(filepath.Join(s.dir, id+".json")); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("delete sandbox %s: %w", id, err)
	}
	s.mu.Lock()
	if r, ok := s.byID[id]; ok {
		if s.names[r.Name()] == id {
			delete(s.names, r.Name())
		}
		delete(s.byID, id)
	}
	s.mu.Unlock()
	return nil
}

// get finds a sandbox by full ID or unique ID prefix, as crictl users type.
func (s *store) get(idOrPrefix string) (*Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.byID[idOrPrefix]; ok {
		return r, nil
	}
	var found *Record
	if idOrPrefix != "" {
		for id, r := range s.byID {
			if strings.HasPrefix(id, idOrPrefix) {
				if found != nil {
					return nil, fmt.Errorf("%w: %q matches more than one sandbox", ErrNotFound, idOrPrefix)
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

// list returns every sandbox, oldest first.
func (s *store) list() []*Record {
	s.mu.RLock()
	out := make([]*Record, 0, len(s.byID))
	for _, r := range s.byID {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt < out[j].CreatedAt })
	return out
}

// writeFileAtomic writes data to path so a crash leaves either the old file
// or the new one, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
