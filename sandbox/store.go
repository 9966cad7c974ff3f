// SPDX-License-Identifier: Apache-2.0

package sandbox

import (
	"github.com/podshim/podshim/pkg/atomicfile"
	"github.com/podshim/podshim/pkg/records"
)

// ErrNotFound means no sandbox has that ID (or ID prefix).
var ErrNotFound = records.ErrNotFound

// ErrNameTaken means another sandbox already has the same metadata.
var ErrNameTaken = records.ErrNameTaken

// store keeps one record file per sandbox.
type store = records.Store[Record]

func openStore(dir string) (*store, error) {
	return records.Open(dir, records.Codec[Record]{
		Marshal:   (*Record).marshal,
		Unmarshal: unmarshalRecord,
		ID:        func(r *Record) string { return r.ID },
		Name:      (*Record).Name,
		Created:   func(r *Record) int64 { return r.CreatedAt },
	})
}

// writeFileAtomic writes a pod file so a crash never leaves a torn one.
var writeFileAtomic = atomicfile.WriteFile
