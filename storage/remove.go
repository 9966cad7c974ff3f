// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	"k8s.io/klog/v2"
)

// Remove deletes the image ref names (any form Get accepts) with all its
// tags and digests, as containerd's CRI RemoveImage does, then frees the
// blobs and layers no other image uses (Options.GCDelay later). Removing an image that is not
// stored succeeds, so concurrent removals of one image all succeed.
func (s *Store) Remove(ref string) error {
	var removed imageRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		id, err := resolveID(tx, ref)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		rec, found, err := loadRecord(tx, id)
		if err != nil || !found {
			return err
		}
		// Every ref pointing at the image goes, including any a damaged
		// record no longer lists.
		refs := tx.Bucket(bucketRefs)
		var names [][]byte
		if err := refs.ForEach(func(k, v []byte) error {
			if string(v) == id {
				names = append(names, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range names {
			if err := refs.Delete(k); err != nil {
				return err
			}
		}
		removed = rec
		return tx.Bucket(bucketImages).Delete([]byte(id))
	})
	if err != nil {
		return fmt.Errorf("remove image %q: %w", ref, err)
	}
	if removed.ID == "" {
		return nil
	}
	klog.V(1).InfoS("Removed image", "id", removed.ID, "tags", removed.RepoTags, "digests", removed.RepoDigests)
	if err := s.scheduleGC(); err != nil {
		return fmt.Errorf("remove image %q: %w", ref, err)
	}
	return nil
}
