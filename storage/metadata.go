// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// meta.db holds two buckets: images maps an image ID to its JSON record,
// refs maps each RepoTag and RepoDigest to the ID it names. A record's
// RepoTags/RepoDigests and the refs pointing at it are always changed in
// the same transaction.
var (
	bucketImages = []byte("images")
	bucketRefs   = []byte("refs")
	// bucketRootfs maps a container ID to the layers its rootfs stacks, so
	// garbage collection keeps them while the container exists, even when
	// its image is removed.
	bucketRootfs = []byte("rootfs")
)

func openDB(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: dbOpenTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%s is locked: another podshim is using this image store", path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketImages, bucketRefs, bucketRootfs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	return db, nil
}

func loadRecord(tx *bolt.Tx, id string) (imageRecord, bool, error) {
	raw := tx.Bucket(bucketImages).Get([]byte(id))
	if raw == nil {
		return imageRecord{}, false, nil
	}
	var r imageRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return imageRecord{}, false, fmt.Errorf("image record %s: %w", id, err)
	}
	return r, true, nil
}

func saveRecord(tx *bolt.Tx, r imageRecord) error {
	slices.Sort(r.RepoTags)
	slices.Sort(r.RepoDigests)
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("image record %s: %w", r.ID, err)
	}
	return tx.Bucket(bucketImages).Put([]byte(r.ID), raw)
}

func forEachRecord(tx *bolt.Tx, fn func(imageRecord) error) error {
	return tx.Bucket(bucketImages).ForEach(func(k, v []byte) error {
		var r imageRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("image record %s: %w", k, err)
		}
		return fn(r)
	})
}

// commitImage records a pulled image and points refs at it, in one
// transaction. A ref that named another image moves: that image loses the
// name but keeps its others (an image left with no tag stays, listed by
// its digests, as in containerd). Pulling an image that is already stored
// merges into its record.
func (s *Store) commitImage(rec imageRecord, refs []string) (imageRecord, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, found, err := loadRecord(tx, rec.ID)
		if err != nil {
			return err
		}
		if found {
			rec.RepoTags = old.RepoTags
			rec.RepoDigests = old.RepoDigests
			rec.Blobs = union(old.Blobs, rec.Blobs)
		}
		refsB := tx.Bucket(bucketRefs)
		for _, ref := range refs {
			if prev := refsB.Get([]byte(ref)); prev != nil && string(prev) != rec.ID {
				if err := detachRef(tx, string(prev), ref); err != nil {
					return err
				}
			}
			if err := refsB.Put([]byte(ref), []byte(rec.ID)); err != nil {
				return err
			}
			if isDigestRef(ref) {
				rec.RepoDigests = union(rec.RepoDigests, []string{ref})
			} else {
				rec.RepoTags = union(rec.RepoTags, []string{ref})
			}
		}
		return saveRecord(tx, rec)
	})
	if err != nil {
		return imageRecord{}, fmt.Errorf("record image %s: %w", rec.ID, err)
	}
	return rec, nil
}

// detachRef removes ref from the names of image id.
func detachRef(tx *bolt.Tx, id, ref string) error {
	r, found, err := loadRecord(tx, id)
	if err != nil || !found {
		return err
	}
	r.RepoTags = slices.DeleteFunc(r.RepoTags, func(s string) bool { return s == ref })
	r.RepoDigests = slices.DeleteFunc(r.RepoDigests, func(s string) bool { return s == ref })
	return saveRecord(tx, r)
}

// union returns the elements of a and b, each once, in order of first
// appearance.
func union[T comparable](a, b []T) []T {
	out := make([]T, 0, len(a)+len(b))
	seen := make(map[T]bool, len(a)+len(b))
	for _, list := range [][]T{a, b} {
		for _, v := range list {
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	return out
}
