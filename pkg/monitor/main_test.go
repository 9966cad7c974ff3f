// SPDX-License-Identifier: Apache-2.0

package monitor

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/podshim/podshim/test/images"
)

// childEnv makes the test binary act as `podshim monitor` when Start runs
// it as `<test binary> monitor ...`, so no cmd/ wiring is needed.
const childEnv = "PODSHIM_MONITOR_TEST_CHILD"

// cgroupParent holds every test container's cgroup.
const cgroupParent = "podshim-test"

// runTag tells this test binary's cgroups and processes from those of
// another one running at the same time (go test ./... builds several).
var runTag = strconv.Itoa(os.Getpid())

// The environment of the integration tests, set up once per test binary.
var (
	testRootfs   string // extracted busybox image, shared read-only
	testRunc     string
	testRuncRoot string
	skipReason   string // why integration tests cannot run here
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "monitor" {
		os.Exit(Main(os.Args[2:]))
	}
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "podshim-monitor-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Only a missing prerequisite skips; any other set-up error is a
	// failure, so a broken environment cannot pass as "skipped".
	skip, err := setUp(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: set-up:", err)
		return 1
	}
	skipReason = skip
	os.Setenv(childEnv, "1")
	code := m.Run()
	if skipReason == "" {
		if err := leftovers(); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: left behind:", err)
			code = 1
		}
		removeCgroupParents()
	}
	return code
}

// setUp prepares the integration tests' environment. It returns a skip
// reason when a prerequisite is missing (root, a built runc), and an error
// when preparing fails.
func setUp(tmp string) (skip string, err error) {
	if os.Geteuid() != 0 {
		return "integration tests need root", nil
	}
	runc, err := filepath.Abs("../../bin/runc")
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(runc); err != nil {
		return fmt.Sprintf("runc not built (make tools): %v", err), nil
	}
	testRunc, testRuncRoot = runc, filepath.Join(tmp, "runc")
	testRootfs = filepath.Join(tmp, "rootfs")
	return "", extractBusybox(testRootfs)
}

// extractBusybox writes the flattened busybox test image under dir.
func extractBusybox(dir string) error {
	img, err := images.Busybox()
	if err != nil {
		return fmt.Errorf("busybox image: %w", err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read busybox layer: %w", err)
		}
		if err := extractEntry(dir, hdr, tr); err != nil {
			return err
		}
	}
}

func extractEntry(dir string, hdr *tar.Header, r io.Reader) error {
	name := filepath.Clean("/" + hdr.Name)
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
	case tar.TypeReg:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		return os.Symlink(hdr.Linkname, path)
	case tar.TypeLink:
		return os.Link(filepath.Join(dir, filepath.Clean("/"+hdr.Linkname)), path)
	default:
		return nil // devices and fifos: the runtime makes /dev
	}
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	return os.Chmod(path, mode) // after chown, which clears setuid
}

// cgroupDirs lists the test cgroup parent in every hierarchy.
func cgroupDirs() []string {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", cgroupParent))
	if _, err := os.Stat(filepath.Join(cgroupRoot, cgroupParent)); err == nil {
		dirs = append(dirs, filepath.Join(cgroupRoot, cgroupParent))
	}
	return dirs
}

// leftovers reports runc containers, container cgroups and container
// processes that outlived the tests.
func leftovers() error {
	var found []string
	if entries, err := os.ReadDir(testRuncRoot); err == nil {
		for _, e := range entries {
			found = append(found, "runc state "+e.Name())
		}
	}
	for _, d := range cgroupDirs() {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), runTag+"-") {
				found = append(found, "cgroup "+filepath.Join(d, e.Name()))
			}
		}
	}
	for _, p := range containerProcesses() {
		found = append(found, fmt.Sprintf("process %d", p))
	}
	if len(found) > 0 {
		return errors.New(strings.Join(found, ", "))
	}
	return nil
}

// removeCgroupParents removes the parents unless another test binary
// still uses them.
func removeCgroupParents() {
	for _, d := range cgroupDirs() {
		os.Remove(d)
	}
}
