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

	"github.com/podshim/podshim/pkg/idmap"
)

// rootfsRecord is what the store keeps for a container's rootfs.
type rootfsRecord struct {
	ImageID string          `json:"imageID"`
	DiffIDs []digest.Digest `json:"diffIDs"`
	// Mountpoint is where an idmapped rootfs is mounted (in MountDir);
	// empty for the usual <ContainersDir>/<id>/rootfs.
	Mountpoint string `json:"mountpoint,omitempty"`
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

// IDMap makes a rootfs for a user-namespaced container: its layers are
// seen through the pod's user namespace, so their root-owned files belong
// to the pod's root, and its writable layer belongs to the host IDs that
// root maps to.
type IDMap struct {
	// Userns is the pod's user namespace, /proc/<pid>/ns/user.
	Userns string
	// RootUID and RootGID are the host IDs of the namespace's root.
	RootUID, RootGID int
}

// CreateRootfs mounts a container's root filesystem: an overlay of the
// image's unpacked layers under a fresh writable layer, the layers
// idmapped when idm is set. The layers are recorded as in use first, so
// removing the image meanwhile keeps them. It returns the mount point. On
// failure nothing is left behind.
func (s *Store) CreateRootfs(containerID, imageRef string, idm *IDMap) (_ string, err error) {
	if err := validContainerID(containerID); err != nil {
		return "", err
	}
	img, err := s.Get(imageRef)
	if err != nil {
		return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
	}
	dir := s.rootfsDir(containerID)
	target := filepath.Join(dir, "rootfs")
	if idm != nil {
		target = filepath.Join(s.opts.MountDir, containerID)
	}
	rec, _ := json.Marshal(rootfsRecord{ImageID: img.ID, DiffIDs: img.Layers, Mountpoint: mountpointOf(target, idm)})
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
	if idm != nil {
		if err := os.MkdirAll(s.opts.MountDir, 0o711); err != nil {
			return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
		}
		if err := os.Mkdir(target, 0o755); err != nil {
			return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
		}
		release, err := s.idmapLayers(dir, lowers, idm)
		if err != nil {
			return "", fmt.Errorf("rootfs of %s: %w", containerID, err)
		}
		// The overlay holds its own references to the idmapped layers:
		// their mounts are not needed once it is made, or if it fails.
		defer func() {
			if rerr := release(); rerr != nil {
				klog.ErrorS(rerr, "Release idmapped layers", "container", containerID)
			}
		}()
	}
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

// mountpointOf is what the record keeps of a rootfs's mount point.
func mountpointOf(target string, idm *IDMap) string {
	if idm == nil {
		return ""
	}
	return target
}

// idmapLayers replaces each lower layer with an idmapped copy mounted in
// dir/l, and gives the writable layer to the namespace's root.
func (s *Store) idmapLayers(dir string, lowers []string, idm *IDMap) (func() error, error) {
	for _, sub := range []string{"upper", "work"} {
		if err := os.Chown(filepath.Join(dir, sub), idm.RootUID, idm.RootGID); err != nil {
			return nil, fmt.Errorf("writable layer for a user namespace: %w", err)
		}
	}
	ns, err := idmap.OpenUserns(idm.Userns)
	if err != nil {
		return nil, err
	}
	defer unix.Close(ns)
	paths, release, err := idmap.Layers(lowers, ns, filepath.Join(dir, "l"))
	if err != nil {
		return nil, err
	}
	copy(lowers, paths)
	return release, nil
}

// removeMountpoint unmounts and removes the mount point in MountDir of a
// user-namespaced container's rootfs, if it has one.
func (s *Store) removeMountpoint(containerID string) error {
	var rec rootfsRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketRootfs).Get([]byte(containerID)); v != nil {
			return json.Unmarshal(v, &rec)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rootfs record: %w", err)
	}
	// The record may be gone, or a crash may have come before it was
	// written: the place is known from the ID all the same.
	p := filepath.Join(s.opts.MountDir, containerID)
	if rec.Mountpoint != "" && rec.Mountpoint != p {
		return fmt.Errorf("rootfs record names mount point %s, not %s", rec.Mountpoint, p)
	}
	if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", p, err)
	}
	// Remove, not RemoveAll: should the unmount not have taken, nothing
	// below is deleted.
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove mount point: %w", err)
	}
	return nil
}

// unmountIdmappedLayers unmounts whatever idmapLayers left mounted in
// dir/l.
func unmountIdmappedLayers(dir string) error {
	entries, err := os.ReadDir(filepath.Join(dir, "l"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("idmapped layers: %w", err)
	}
	for _, e := range entries {
		p := filepath.Join(dir, "l", e.Name())
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount idmapped layer %s: %w", p, err)
		}
	}
	return nil
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
	if err := s.removeMountpoint(containerID); err != nil {
		return fmt.Errorf("remove rootfs of %s: %w", containerID, err)
	}
	if err := unix.Unmount(filepath.Join(dir, "rootfs"), unix.MNT_DETACH); err != nil &&
		!errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount rootfs of %s: %w", containerID, err)
	}
	// A crash while a user-namespaced rootfs was made may have left its
	// idmapped layers mounted: the delete below must not reach into them.
	if err := unmountIdmappedLayers(dir); err != nil {
		return fmt.Errorf("remove rootfs of %s: %w", containerID, err)
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
	return s.scheduleGC()
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
