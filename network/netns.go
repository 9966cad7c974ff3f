// SPDX-License-Identifier: Apache-2.0

package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// NewNetNS creates a network namespace for the pod and pins it with a bind
// mount at <StateDir>/netns/<podID>, so it outlives every process in it and
// can be handed to runc and to CNI plugins by path.
func (m *Manager) NewNetNS(podID string) (string, error) {
	if err := validPodID(podID); err != nil {
		return "", err
	}
	path, err := m.netnsMountPoint(podID)
	if err != nil {
		return "", err
	}

	errc := make(chan error, 1)
	go func() { errc <- pinNewNetNS(path) }()
	if err := <-errc; err != nil {
		// Nothing was mounted, and with no thread or mount holding it the
		// new namespace is already gone; only the file is left.
		os.Remove(path)
		return "", fmt.Errorf("pin netns for pod %s: %w", podID, err)
	}
	return path, nil
}

// netnsMountPoint creates the file a pod's netns is pinned on. It is
// created exclusively: two sandboxes can never end up sharing one pinned
// namespace, and an existing pin is never mounted over (which would hide,
// and leak, the first one).
func (m *Manager) netnsMountPoint(podID string) (string, error) {
	path := filepath.Join(m.netnsDir, podID)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return "", fmt.Errorf("create netns mount point for pod %s: %w", podID, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("close netns mount point %s: %w", path, err)
	}
	return path, nil
}

// PinNetNS pins the network namespace process pid is in, at the same place
// NewNetNS would: for a user-namespaced pod, whose pause makes its network
// namespace inside the pod's user namespace so that the pod's root owns it.
func (m *Manager) PinNetNS(podID string, pid int) (string, error) {
	if err := validPodID(podID); err != nil {
		return "", err
	}
	path, err := m.netnsMountPoint(podID)
	if err != nil {
		return "", err
	}
	src := fmt.Sprintf("/proc/%d/ns/net", pid)
	if err := unix.Mount(src, path, "", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("pin netns of pod %s from %s: %w", podID, src, err)
	}
	return path, nil
}

// pinNewNetNS moves the calling goroutine's thread into a new network
// namespace, bind-mounts that namespace on target, and moves the thread
// back.
//
// The thread is locked for all of it, and unlocked only once it is back in
// its original namespace. If going back fails it stays locked: when the
// goroutine returns, the Go runtime retires a still-locked thread instead of
// handing it to other goroutines, so none ever runs in the pod's namespace.
// (Simply never unlocking is not enough: if the goroutine ran on the main
// thread, the runtime parks that thread forever rather than ending it, and
// the parked thread would keep the pod's namespace alive after removal.)
func pinNewNetNS(target string) error {
	runtime.LockOSThread()

	self := fmt.Sprintf("/proc/%d/task/%d/ns/net", os.Getpid(), unix.Gettid())
	orig, err := unix.Open(self, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("open current netns: %w", err)
	}
	defer unix.Close(orig)

	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread() // unshare failed: the thread did not move
		return fmt.Errorf("unshare network namespace: %w", err)
	}
	// self now names the new namespace: /proc resolves it at open time.
	mountErr := unix.Mount(self, target, "", unix.MS_BIND, "")
	if mountErr != nil {
		mountErr = fmt.Errorf("bind mount %s on %s: %w", self, target, mountErr)
	}
	if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
		// The pin itself is fine; only this thread is lost.
		klog.ErrorS(err, "Thread could not return from a new pod netns; retiring it", "netns", target)
		return mountErr
	}
	runtime.UnlockOSThread()
	return mountErr
}

// RemoveNetNS unpins a namespace made by NewNetNS and deletes its mount
// point. A path that is already gone, or no longer mounted, is fine: this is
// called again after crashes and on retries.
func (m *Manager) RemoveNetNS(path string) error {
	if path == "" {
		return nil
	}
	// Only ever unmount our own pins, never whatever path a caller passes.
	if filepath.Dir(filepath.Clean(path)) != m.netnsDir {
		return fmt.Errorf("remove netns %s: not under %s", path, m.netnsDir)
	}
	// Lazy unmount: processes still inside, or a plugin still holding the
	// file open, must not make sandbox removal fail; the kernel frees the
	// namespace when its last user goes. Loop in case of stacked mounts.
	for i := 0; i < 8; i++ {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
			break // not (or no longer) a mount point, or no file
		}
		if err != nil {
			return fmt.Errorf("unmount netns %s: %w", path, err)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove netns mount point %s: %w", path, err)
	}
	return nil
}

// isNetNS reports whether path is a live network namespace pin. A pin whose
// mount is gone (after a reboot, or a crash half-way through RemoveNetNS)
// is a plain empty file and must not be handed to plugins as a namespace.
func isNetNS(path string) bool {
	if path == "" {
		return false
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false
	}
	return st.Type == unix.NSFS_MAGIC
}

// ListNetNS returns the paths of all pins under <StateDir>/netns. A crash
// between NewNetNS and the sandbox layer recording the sandbox leaves a pin
// nobody knows about; at start-up the sandbox layer removes those it does
// not recognise.
func (m *Manager) ListNetNS() ([]string, error) {
	entries, err := os.ReadDir(m.netnsDir)
	if err != nil {
		return nil, fmt.Errorf("list netns pins: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, filepath.Join(m.netnsDir, e.Name()))
		}
	}
	return out, nil
}
