// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// imageVolumeKey names an image volume's layer record: it sits beside the
// container's rootfs record, so removing the rootfs finds it.
func imageVolumeKey(containerID string, n int) string {
	return containerID + "/vol/" + strconv.Itoa(n)
}

// MountImageVolume mounts an image's content read-only for a container (a
// CRI mount with an image, "image volume"), as the n-th such volume. Its
// layers are recorded as in use first, so removing the image meanwhile
// keeps them. The mount is removed with the container's rootfs.
func (s *Store) MountImageVolume(containerID string, n int, imageRef string) (string, error) {
	if err := validContainerID(containerID); err != nil {
		return "", err
	}
	img, err := s.Get(imageRef)
	if err != nil {
		return "", fmt.Errorf("image volume: %w", err)
	}
	rec, _ := json.Marshal(rootfsRecord{ImageID: img.ID, DiffIDs: img.Layers})
	s.gcMu.Lock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, found, err := loadRecord(tx, img.ID); err != nil || !found {
			return fmt.Errorf("image %s was removed: %w", img.ID, ErrNotFound)
		}
		return tx.Bucket(bucketRootfs).Put([]byte(imageVolumeKey(containerID, n)), rec)
	})
	s.gcMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("image volume %s: %w", img.ID, err)
	}
	target := filepath.Join(s.rootfsDir(containerID), "imagevol-"+strconv.Itoa(n))
	if err := os.MkdirAll(target, 0o755); err != nil {
		return "", fmt.Errorf("image volume: %w", err)
	}
	lowers := make([]string, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		lowers = append(lowers, s.layerPath(img.Layers[i].Encoded()))
	}
	switch len(lowers) {
	case 0:
		return "", fmt.Errorf("image volume %s: the image has no layer", img.ID)
	case 1:
		// overlayfs needs two lower layers when it has no upper one: one
		// layer is bound read-only instead.
		if err := unix.Mount(lowers[0], target, "", unix.MS_BIND, ""); err != nil {
			return "", fmt.Errorf("image volume %s: bind: %w", img.ID, err)
		}
		if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			unix.Unmount(target, unix.MNT_DETACH)
			return "", fmt.Errorf("image volume %s: read-only: %w", img.ID, err)
		}
	default:
		opts := "lowerdir=" + strings.Join(lowers, ":")
		if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, opts); err != nil {
			return "", fmt.Errorf("image volume %s: mount overlay: %w", img.ID, err)
		}
	}
	return target, nil
}

// unmountImageVolumes unmounts a container's image volumes and forgets
// their layer records; the rootfs removal then deletes the directories.
func (s *Store) unmountImageVolumes(containerID string) error {
	dir := s.rootfsDir(containerID)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "imagevol-") {
			p := filepath.Join(dir, e.Name())
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
				return fmt.Errorf("unmount image volume %s: %w", p, err)
			}
		}
	}
	prefix := []byte(containerID + "/vol/")
	return s.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRootfs).Cursor()
		var keys [][]byte
		for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			if err := tx.Bucket(bucketRootfs).Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
