// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	bolt "go.etcd.io/bbolt"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/metrics"
)

// Temporary names live beside their final place, so that the rename that
// publishes them is atomic and never crosses a filesystem.
const (
	tempPrefix  = ".tmp-"
	trashPrefix = ".trash-"
)

// sweep runs at Open, when no pull can be in flight: it deletes everything
// an interrupted pull or removal left (temporary blobs and layer dirs,
// layer dirs being deleted), then all content no image references.
func (s *Store) sweep() error {
	for _, dir := range []string{s.blobs.dir, s.layersDir} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) || strings.HasPrefix(e.Name(), trashPrefix) {
				klog.V(2).InfoS("Removing leftover of an interrupted pull", "path", filepath.Join(dir, e.Name()))
				if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return s.collectGarbage()
}

// collectGarbage deletes blobs and layer directories that no image record
// references and no pull in flight has leased.
func (s *Store) collectGarbage() error {
	defer s.contentChanged()
	trash, err := s.unlinkUnreferenced()
	// Deleting a layer tree can take long; it happens outside gcMu, on
	// directories that were already renamed out of the store's namespace.
	for _, dir := range trash {
		// Measured before the delete: the freed-bytes metric. A tree that
		// cannot be measured is still deleted.
		if u, uerr := dirUsage(dir); uerr == nil {
			metrics.GCFreed(u.UsedBytes)
		}
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			err = errors.Join(err, rmErr)
		}
	}
	if err != nil {
		return fmt.Errorf("collect garbage: %w", err)
	}
	return nil
}

// unlinkUnreferenced removes unreferenced blobs and renames unreferenced
// layer directories to trash names, all under gcMu, and returns the trash
// to delete.
func (s *Store) unlinkUnreferenced() ([]string, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	liveBlobs, liveLayers, err := s.referencedContent()
	if err != nil {
		return nil, err
	}
	blobNames, err := contentNames(s.blobs.dir)
	if err != nil {
		return nil, err
	}
	for _, hex := range blobNames {
		if liveBlobs[hex] || s.leased(blobKey(hex)) {
			continue
		}
		klog.V(2).InfoS("Deleting unreferenced blob", "digest", idPrefix+hex)
		path := filepath.Join(s.blobs.dir, hex)
		fi, statErr := os.Lstat(path)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if statErr == nil {
			metrics.GCFreed(allocated(fi))
		}
	}
	layerNames, err := contentNames(s.layersDir)
	if err != nil {
		return nil, err
	}
	var trash []string
	for _, hex := range layerNames {
		if liveLayers[hex] || s.leased(layerKey(hex)) {
			continue
		}
		klog.V(2).InfoS("Deleting unreferenced layer", "diffID", idPrefix+hex)
		// The rename takes the layer out of the store's namespace at once;
		// the slow delete of its tree happens later.
		dir := filepath.Join(s.layersDir, trashPrefix+hex+"-"+rand.Text())
		if err := os.Rename(s.layerPath(hex), dir); err != nil {
			return trash, err
		}
		trash = append(trash, dir)
	}
	return trash, nil
}

// referencedContent lists, as hex, the blobs and layers image records name.
func (s *Store) referencedContent() (blobs, layers map[string]bool, err error) {
	blobs, layers = map[string]bool{}, map[string]bool{}
	err = s.db.View(func(tx *bolt.Tx) error {
		err := forEachRecord(tx, func(r imageRecord) error {
			for _, d := range r.Blobs {
				blobs[d.Encoded()] = true
			}
			for _, d := range r.DiffIDs {
				layers[d.Encoded()] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		return forEachRootfs(tx, func(_ string, r rootfsRecord) error {
			for _, d := range r.DiffIDs {
				layers[d.Encoded()] = true
			}
			return nil
		})
	})
	return blobs, layers, err
}

// contentNames lists the digest-named entries of dir, skipping temporary
// and trash names, which belong to whoever made them.
func contentNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if len(e.Name()) == idHexLen && isLowerHex(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
