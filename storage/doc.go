// SPDX-License-Identifier: Apache-2.0

// Package storage is podshim's image store. It pulls images from registries
// that speak the distribution API (v2), keeps their content by digest,
// unpacks each layer once into a directory usable as an overlay lower layer,
// and records images and their references in a bbolt database.
//
// Layout below Options.Root:
//
//	meta.db                  images (ID -> record) and refs (tag/digest -> ID)
//	blobs/sha256/<hex>       verified manifests, indexes, configs, compressed layers
//	blobs/sha256/.tmp-*      blobs being written
//	layers/<diffID hex>/     unpacked layers, whiteouts in overlay form
//	layers/.tmp-*, .trash-*  layers being unpacked or being deleted
//
// Crash consistency: content is made durable (fsync, syncfs, rename) before
// the metadata transaction that references it commits, so whatever a crash
// interrupts is either complete and referenced, or unreferenced; Open sweeps
// the temporary names and everything no image references.
package storage
