// SPDX-License-Identifier: Apache-2.0

// Package container runs a pod's containers: a rootfs from the image store,
// an OCI spec from pkg/oci, and the pod's monitor, which creates them under
// runc, holds their stdio, writes their logs and records their exits.
package container

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/pkg/records"
)

// Record is what podshim keeps about a container; the live state (running,
// exited, exit code) comes from the pod's monitor or its exit record.
type Record struct {
	ID        string
	SandboxID string
	Config    *runtimeapi.ContainerConfig
	// ImageID is the image the container was created from; ImageRef is
	// how the request named it.
	ImageID   string
	ImageRef  string
	CreatedAt int64
	LogPath   string
	Rootfs    string
	Bundle    string
	// TerminationLog is the host file behind the termination message.
	TerminationLog string
	StopSignal     int
	Pid            int
	StartedAt      int64
	Spec           json.RawMessage
	// ImageVolumes maps an image volume's image reference, as requested,
	// to the image ID mounted, for ContainerStatus.
	ImageVolumes map[string]string
	// StartError is why the container's process could not be executed,
	// found when runc created it; StartContainer reports it, and from then
	// (StartFailedAt) the container is exited, StartError, code 128.
	StartError    string `json:",omitempty"`
	StartFailedAt int64  `json:",omitempty"`
	// ExitReported is set once the container's exit went out as a
	// CONTAINER_STOPPED event, so a restarted daemon reports only the
	// exits it missed.
	ExitReported bool `json:",omitempty"`

	name string
}

// Name is unique per node, built as containerd and CRI-O build it.
func (r *Record) Name() string { return r.name }

type recordFile struct {
	Record
	Config json.RawMessage `json:"Config"`
	Name   string
}

// name is set by the manager from the container and pod metadata.
func containerName(c *runtimeapi.ContainerMetadata, pod *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%s_%d", c.GetName(), pod.GetName(), pod.GetNamespace(), pod.GetUid(), c.GetAttempt())
}

func codec() records.Codec[Record] {
	return records.Codec[Record]{
		Marshal: func(r *Record) ([]byte, error) {
			cfg, err := protojson.Marshal(r.Config)
			if err != nil {
				return nil, fmt.Errorf("encode container %s config: %w", r.ID, err)
			}
			return json.MarshalIndent(recordFile{Record: *r, Config: cfg, Name: r.name}, "", "  ")
		},
		Unmarshal: func(data []byte) (*Record, error) {
			var f recordFile
			if err := json.Unmarshal(data, &f); err != nil {
				return nil, err
			}
			r := f.Record
			r.name = f.Name
			r.Config = &runtimeapi.ContainerConfig{}
			if err := protojson.Unmarshal(f.Config, r.Config); err != nil {
				return nil, fmt.Errorf("decode container %s config: %w", r.ID, err)
			}
			return &r, nil
		},
		ID:      func(r *Record) string { return r.ID },
		Name:    (*Record).Name,
		Created: func(r *Record) int64 { return r.CreatedAt },
	}
}
