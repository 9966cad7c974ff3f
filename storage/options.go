// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"fmt"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Options configures a Store.
type Options struct {
	// Root is the directory everything lives below, e.g.
	// /var/lib/podshim/images.
	Root string
	// ContainersDir holds containers' writable layers and overlay mount
	// points; default: "containers" beside Root.
	ContainersDir string
	// MountDir holds the mount points of user-namespaced containers'
	// rootfs: it is traversable by anyone (0711), as their root, an
	// unprivileged host user, must reach its rootfs, while ContainersDir
	// keeps every writable layer private.
	MountDir string
	// Mirrors maps a normalised registry host ("docker.io",
	// "registry.k8s.io", "127.0.0.1:5000") to endpoints such as
	// "http://127.0.0.1:5000" or "https://mirror.example:443", tried in
	// order before the registry itself. The endpoint's scheme decides
	// between plain HTTP and TLS; one without a scheme means https.
	Mirrors map[string][]string
	// Hosts holds per-host settings, keyed by host[:port] as it appears in
	// references and mirror endpoints.
	Hosts map[string]HostConfig
	// ProgressTimeout cancels a pull when no byte has arrived from the
	// registry for this long while a request is outstanding. 0 means 1m.
	ProgressTimeout time.Duration
	// MaxConcurrentDownloads bounds the layers one pull fetches at once.
	// 0 means 3.
	MaxConcurrentDownloads int
	// Platform is the platform chosen from multi-arch indexes; nil means
	// this node's.
	Platform *v1.Platform
	// PinnedImages are references (any form Normalize accepts) or glob
	// patterns (see newPinSet) whose images report Pinned, so the kubelet
	// never garbage-collects them.
	PinnedImages []string
	// GCDelay is how long blobs and layers that no image references any
	// more are kept before they are deleted, so an image removed and
	// pulled again soon needs no download or unpack. 0 deletes them
	// before RemoveImage returns.
	GCDelay time.Duration
}

// HostConfig is how to talk to one registry host.
type HostConfig struct {
	// Insecure allows plain HTTP, or TLS without certificate verification.
	Insecure bool
	// CAFile is a PEM bundle trusted for this host on top of the system
	// pool.
	CAFile string
}

// Auth is the credential of a pull, as the CRI's AuthConfig carries it.
type Auth struct {
	Username      string
	Password      string
	Auth          string // base64 of "username:password"
	IdentityToken string // exchanged for a bearer token (OAuth2 refresh token)
	RegistryToken string // a bearer token sent as is
	// ServerAddress, when set, limits the credential to endpoints on that
	// host; when empty the credential goes to mirrors and the registry
	// alike, as containerd does.
	ServerAddress string
}

const (
	defaultProgressTimeout        = time.Minute
	defaultMaxConcurrentDownloads = 3
)

// withDefaults fills unset options and checks the rest.
func (o Options) withDefaults() (Options, error) {
	if o.Root == "" {
		return o, fmt.Errorf("image store root is not set")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return o, fmt.Errorf("image store root %q: %w", o.Root, err)
	}
	o.Root = filepath.Clean(root)
	if o.ContainersDir == "" {
		o.ContainersDir = filepath.Join(filepath.Dir(o.Root), "containers")
	}
	if o.MountDir == "" {
		o.MountDir = filepath.Join(filepath.Dir(o.Root), "rootfs")
	}
	if o.ProgressTimeout <= 0 {
		o.ProgressTimeout = defaultProgressTimeout
	}
	if o.MaxConcurrentDownloads <= 0 {
		o.MaxConcurrentDownloads = defaultMaxConcurrentDownloads
	}
	if o.Platform == nil {
		p := nodePlatform()
		o.Platform = &p
	}
	return o, nil
}
