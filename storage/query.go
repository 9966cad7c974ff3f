// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Get returns the image ref names: a full ID ("sha256:<hex>" or bare hex),
// a tag or digest reference in any form Normalize accepts, or a unique ID
// prefix of at least 12 hex digits. An unknown image wraps ErrNotFound, an
// unparsable ref ErrInvalidReference.
func (s *Store) Get(ref string) (Image, error) {
	var rec imageRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		id, err := resolveID(tx, ref)
		if err != nil {
			return err
		}
		r, found, err := loadRecord(tx, id)
		if err == nil && !found {
			err = fmt.Errorf("image %s: %w", id, ErrNotFound)
		}
		rec = r
		return err
	})
	if err != nil {
		return Image{}, fmt.Errorf("get image %q: %w", ref, err)
	}
	return rec.image(s.isPinned(rec))
}

// List returns every stored image, ordered by ID.
func (s *Store) List() ([]Image, error) {
	var recs []imageRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		return forEachRecord(tx, func(r imageRecord) error {
			recs = append(recs, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].ID < recs[j].ID })
	out := make([]Image, 0, len(recs))
	for _, r := range recs {
		img, err := r.image(s.isPinned(r))
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		out = append(out, img)
	}
	return out, nil
}

// LayerDirs returns the unpacked layer directories of the image ref names,
// bottom first, ready to be overlay lower directories (which overlayfs
// lists top first).
func (s *Store) LayerDirs(ref string) ([]string, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, fmt.Errorf("layer dirs: %w", err)
	}
	dirs := make([]string, 0, len(img.Layers))
	for _, diffID := range img.Layers {
		dir := s.layerPath(diffID.Encoded())
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("layer dirs of %s: layer %s is missing: %w", img.ID, diffID, ErrNotFound)
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

func (s *Store) layerPath(hex string) string {
	return filepath.Join(s.layersDir, hex)
}

// resolveID finds the ID of the image ref names, trying in turn: a full
// ID, a reference, and an ID prefix. The order matters because a short hex
// string is also a valid repository name; a name that is stored wins.
func resolveID(tx *bolt.Tx, ref string) (string, error) {
	if id, ok := fullImageID(ref); ok {
		if tx.Bucket(bucketImages).Get([]byte(id)) == nil {
			return "", fmt.Errorf("image %s: %w", id, ErrNotFound)
		}
		return id, nil
	}
	named, parseErr := parseRef(ref)
	if parseErr == nil {
		if id := tx.Bucket(bucketRefs).Get([]byte(named.String())); id != nil {
			return string(id), nil
		}
	}
	if prefix, ok := imageIDPrefix(ref); ok {
		return idByPrefix(tx, prefix)
	}
	if parseErr != nil {
		return "", parseErr
	}
	return "", fmt.Errorf("image %s: %w", named, ErrNotFound)
}

// idByPrefix finds the one image whose ID starts with prefix.
func idByPrefix(tx *bolt.Tx, prefix string) (string, error) {
	c := tx.Bucket(bucketImages).Cursor()
	var found []string
	for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
		found = append(found, string(k))
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("image %s: %w", prefix, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("image ID prefix %s is ambiguous (%d images): %w", prefix, len(found), ErrNotFound)
}
