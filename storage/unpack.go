// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// unpackLayer unpacks the stored blob of layer desc into
// Root/layers/<diffID hex>. It unpacks into a temporary directory beside
// it and renames that into place only when the uncompressed stream hashed
// to diffID and everything is on disk, so the final name always holds a
// complete, verified layer. On any failure the temporary directory goes.
func (s *Store) unpackLayer(ctx context.Context, desc ocispec.Descriptor, diffID digest.Digest) (err error) {
	hex := diffID.Encoded()
	tmp, err := os.MkdirTemp(s.layersDir, tempPrefix+hex+"-")
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	defer func() {
		if err != nil {
			if rmErr := os.RemoveAll(tmp); rmErr != nil {
				klog.ErrorS(rmErr, "Could not remove a failed layer unpack", "path", tmp)
			}
		}
	}()
	// The layer's own root entry, if any, sets the final mode; until then
	// the directory is as a lower layer's root usually is.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}

	blob, err := os.Open(s.blobs.path(desc.Digest))
	if err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	defer blob.Close()
	plain, err := decompress(bufio.NewReaderSize(blob, 1<<16))
	if err != nil {
		return fmt.Errorf("unpack layer %s (blob %s): %w", diffID, desc.Digest, err)
	}
	defer plain.Close()
	h := sha256.New()
	maxBytes, maxEntries := unpackLimits(desc.Size)
	capped := &capReader{r: plain, max: maxBytes, declared: desc.Size}
	stream := &badContentReader{io.TeeReader(capped, h)}
	if err := extractTar(ctx, stream, tmp, maxEntries); err != nil {
		return fmt.Errorf("unpack layer %s (blob %s): %w", diffID, desc.Digest, err)
	}
	// The diff ID covers the whole stream, including the end-of-archive
	// blocks the tar reader stops before.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return fmt.Errorf("unpack layer %s (blob %s): %w", diffID, desc.Digest, err)
	}
	if got := digest.NewDigest(digest.SHA256, h); got != diffID {
		return fmt.Errorf("layer %s (blob %s): uncompressed content has digest %s: %w", diffID, desc.Digest, got, ErrBadContent)
	}

	// One syncfs makes every file of the layer durable before the rename
	// publishes it and the metadata that follows refers to it.
	if err := syncFS(tmp); err != nil {
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	final := s.layerPath(hex)
	if err := os.Rename(tmp, final); err != nil {
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			// Already there (unpacked by an earlier pull): keep that one.
			return os.RemoveAll(tmp)
		}
		return fmt.Errorf("unpack layer %s: %w", diffID, err)
	}
	klog.V(2).InfoS("Unpacked layer", "diffID", diffID, "blob", desc.Digest)
	return syncDir(s.layersDir)
}

func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}

// badContentReader marks errors of the decompressed stream as bad content:
// a corrupt gzip or zstd stream or a truncated blob is the image's fault,
// unlike a failure to write the unpacked files.
type badContentReader struct{ r io.Reader }

func (b *badContentReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("layer stream: %w: %w", ErrBadContent, err)
	}
	return n, err
}
