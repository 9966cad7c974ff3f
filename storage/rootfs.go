// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// rootfsRecord is what the store keeps for a container's rootfs.
type rootfsRecord struct {
	ImageID string          `json:"imageID"`
	DiffIDs []digest.Digest `json:"diffIDs"`
}

func forEachRootfs(tx *bolt.Tx, fn func(id string, r rootfsRecord) error) error {
	return tx.Bucket(bucketRootfs).ForEach(func(k, v []byte) error {
		var r rootfsRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("rootfs record %s: %w", k, err)
		}
		return fn(string(k), r)
	})
}

func validContainerID(id string) error {
	if id == "" || len(id) > 128 || strings.ContainsAny(id, "/\\\x00") || id == "." || id == ".." {
		return fmt.Errorf("container id %q is not a valid directory name", id)
	}
	return nil
}

// rootfsDir is a container's directory: upper/ and work/ of its writable
// layer, and rootfs/, the overlay mount point.
func (s *Store) rootfsDir(id string) string { return filepath.Join(s.opts.ContainersDir, id) }

// VolumesDir is where a container's anonymous volumes (its image's VOLUMEs)
// live: in the container's directory, so RemoveRootfs removes them with it.
func (s *Store) VolumesDir(containerID string) (string, error) {
	if err := validContainerID(containerID); err != nil {
		return "", err
	}
	return filepath.Join(s.rootfsDir(containerID), "volumes"), nil
}

// CreateRootfs mounts a container's root filesystem: an overlay of the
// image's unpacked layers under a fresh writable layer. The layers are
// recorded as in use first, so removing the image meanwhile keeps them.
// It returns the mount point. On failure nothing is left behind.
func (s *Store) CreateRootfs(containerID, imageRef string) (_ string, err error) {
	if err := validContainerID(containerID); err != nil {
		return "", err
	}
	img, err := s.Get(imageRef)
	if err != nil {
		return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
	}
	rec, _ := json.Marshal(rootfsRecord{ImageID: img.ID, DiffIDs: img.Layers})
	// Under gcMu: a collection between Get and this write could otherwise
	// delete the layers of an image removed in between.
	s.gcMu.Lock()
	err = s.db.Update(func(tx *bolt.Tx) error {
		if _, found, err := loadRecord(tx, img.ID); err != nil || !found {
			return fmt.Errorf("image %s was removed: %w", img.ID, ErrNotFound)
		}
		if tx.Bucket(bucketRootfs).Get([]byte(containerID)) != nil {
			return fmt.Errorf("container %s already has a rootfs", containerID)
		}
		return tx.Bucket(bucketRootfs).Put([]byte(containerID), rec)
	})
	s.gcMu.Unlock()
	if err != nil {
		return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
	}
	defer func() {
		if err != nil {
			if rerr := s.RemoveRootfs(containerID); rerr != nil {
				klog.ErrorS(rerr, "Undo a failed rootfs", "container", containerID)
			}
		}
	}()

	dir := s.rootfsDir(containerID)
	for _, sub := range []string{"upper", "work", "rootfs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
		}
	}
	// overlayfs lists lower directories top first.
	lowers := make([]string, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		lower := s.layerPath(img.Layers[i].Encoded())
		if _, err := os.Stat(lower); err != nil {
			return "", fmt.Errorf("rootfs of %s: layer %s: %w", containerID, img.Layers[i], ErrNotFound)
		}
		lowers = append(lowers, lower)
	}
	target := filepath.Join(dir, "rootfs")
	if len(lowers) == 0 {
		// An image with no layer: the writable layer is the whole rootfs.
		err = unix.Mount(filepath.Join(dir, "upper"), target, "", unix.MS_BIND, "")
	} else {
		opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
			strings.Join(lowers, ":"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
		if len(opts) >= unix.Getpagesize() {
			return "", fmt.Errorf("rootfs of %s: %d layers make overlay options longer than a page", containerID, len(lowers))
		}
		err = unix.Mount("overlay", target, "overlay", 0, opts)
	}
	if err != nil {
		return "", fmt.Errorf("rootfs of %s: mount overlay: %w", containerID, err)
	}
	return target, nil
}

// RemoveRootfs unmounts and deletes a container's rootfs, writable layer
// included, and releases its layers (deleting those no image or other
// container uses). Removing a rootfs that does not exist succeeds.
func (s *Store) RemoveRootfs(containerID string) error {
	if err := validContainerID(containerID); err != nil {
		return err
	}
	dir := s.rootfsDir(containerID)
	// Image volumes first: deleting the directory must never reach into an
	// image's layers through a mount still in place.
	if err := s.unmountImageVolumes(containerID); err != nil {
		return fmt.Errorf("remove rootfs of %s: %w", containerID, err)
	}
	if err := unix.Unmount(filepath.Join(dir, "rootfs"), unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount rootfs of %s: %w", containerID, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove rootfs of %s: %w", containerID, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRootfs).Delete([]byte(containerID))
	})
	if err != nil {
		return fmt.Errorf("remove rootfs of %s: %w", containerID, err)
	}
	return s.collectGarbage()
}

// RootfsUsage measures a container's writable layer.
func (s *Store) RootfsUsage(containerID string) (Usage, error) {
	if err := validContainerID(containerID); err != nil {
		return Usage{}, err
	}
	u, err := dirUsage(filepath.Join(s.rootfsDir(containerID), "upper"))
	if err != nil {
		return Usage{}, fmt.Errorf("writable layer of %s: %w", containerID, err)
	}
	return u, nil
}

// ContainersUsage measures every container's writable layer together, for
// the container filesystem of ImageFsInfo.
func (s *Store) ContainersUsage() (Usage, error) {
	u, err := dirUsage(s.opts.ContainersDir)
	if err != nil {
		return Usage{}, fmt.Errorf("container layers usage: %w", err)
	}
	return u, nil
}

// RootfsIDs lists the containers that have a rootfs, for start-up recovery.
func (s *Store) RootfsIDs() ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return forEachRootfs(tx, func(id string, _ rootfsRecord) error {
			if !strings.Contains(id, "/") { // image volumes are listed under their container
				ids = append(ids, id)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list rootfs: %w", err)
	}
	return ids, nil
}
