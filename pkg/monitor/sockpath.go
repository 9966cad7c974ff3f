// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxSockPath is the longest path a unix socket address holds (sun_path
// is 108 bytes with its NUL), less a margin.
const maxSockPath = 100

// withSockPath calls fn with a path usable to bind or dial path. A path
// too long for a socket address is reached through /proc/self/fd and a
// descriptor of its directory, so a daemon may place pod directories as
// deep as it likes.
func withSockPath(path string, fn func(string) error) error {
	if len(path) <= maxSockPath {
		return fn(path)
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open socket directory: %w", err)
	}
	defer unix.Close(fd)
	short := "/proc/self/fd/" + strconv.Itoa(fd) + "/" + filepath.Base(path)
	if len(short) > maxSockPath {
		return fmt.Errorf("socket name too long: %s", path)
	}
	return fn(short)
}

// consoleSocketDir returns a directory for runc's console socket. runc
// dials that path from its own process, where /proc/self/fd tricks do not
// reach ours, so a long container directory falls back to a private
// temporary one, which the caller removes.
func consoleSocketDir(containerDir string) (dir string, temporary bool, err error) {
	if len(filepath.Join(containerDir, "console.sock")) <= maxSockPath {
		return containerDir, false, nil
	}
	dir, err = os.MkdirTemp("", "podshim-console-")
	if err != nil {
		return "", false, fmt.Errorf("console socket directory: %w", err)
	}
	return dir, true, nil
}
