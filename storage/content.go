// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
)

// blobStore keeps content by digest under Root/blobs/sha256/<hex>. A blob
// is only ever visible under its final name after its bytes were checked
// against the digest and size and made durable, so a present blob is a
// correct one.
type blobStore struct {
	dir string
}

func (b *blobStore) path(d digest.Digest) string {
	return filepath.Join(b.dir, d.Encoded())
}

func (b *blobStore) has(d digest.Digest) bool {
	fi, err := os.Lstat(b.path(d))
	return err == nil && fi.Mode().IsRegular()
}

func (b *blobStore) read(d digest.Digest) ([]byte, error) {
	data, err := os.ReadFile(b.path(d))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	return data, nil
}

// checkDigest refuses digests the store cannot address.
func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return fmt.Errorf("digest %q: %w: %v", d, ErrBadContent, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return fmt.Errorf("digest %s: %w: only sha256 is supported", d, ErrBadContent)
	}
	return nil
}

// write stores what r yields as blob d. size is the expected length, or -1
// when unknown. A mismatch wraps ErrBadContent and leaves nothing behind;
// so does any other failure, which is returned as it came from r or the
// disk.
func (b *blobStore) write(d digest.Digest, size int64, r io.Reader) (err error) {
	if err := checkDigest(d); err != nil {
		return err
	}
	f, err := os.CreateTemp(b.dir, tempPrefix+d.Encoded()+"-*")
	if err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	src := r
	if size >= 0 {
		// One byte more than expected is enough to tell that the registry
		// sends too much, without reading an endless body.
		src = io.LimitReader(r, size+1)
	}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	if size >= 0 && n != size {
		return fmt.Errorf("blob %s: received %d bytes, expected %d: %w", d, n, size, ErrBadContent)
	}
	if got := digest.NewDigest(digest.SHA256, h); got != d {
		return fmt.Errorf("blob %s: received content has digest %s: %w", d, got, ErrBadContent)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	if err := os.Rename(f.Name(), b.path(d)); err != nil {
		return fmt.Errorf("store blob %s: %w", d, err)
	}
	return syncDir(b.dir)
}

// writeBytes stores data, already in memory, as blob d unless present.
func (b *blobStore) writeBytes(d digest.Digest, data []byte) error {
	if b.has(d) {
		return nil
	}
	return b.write(d, int64(len(data)), bytes.NewReader(data))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
