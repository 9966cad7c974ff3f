// SPDX-License-Identifier: Apache-2.0

// Package sandbox runs pod sandboxes: a pinned network namespace wired by
// CNI, the pod's files (hostname, resolv.conf, hosts, /dev/shm), and a pause
// process under runc that owns the pod's shared namespaces.
package sandbox

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// State is what podshim last decided about a sandbox. The live state also
// depends on whether its pause process still runs.
type State string

const (
	StateReady    State = "ready"
	StateNotReady State = "notready"
)

// Record is everything podshim knows about one sandbox. It is written to
// disk before an RPC that changed it returns, so a restarted daemon knows
// every pod it had.
type Record struct {
	ID     string
	Config *runtimeapi.PodSandboxConfig
	// RuntimeHandler is the handler the pod was asked for (may be empty);
	// Runtime is the configured handler it resolved to, kept so that the
	// pod and its containers stay on it even if default_runtime changes.
	RuntimeHandler string
	Runtime        string `json:",omitempty"`
	CreatedAt      int64  // unix nanoseconds
	State          State
	NetNSPath      string
	IPs            []string
	// NetworkDown is set once CNI DEL succeeded, so later stops skip it.
	NetworkDown bool
	// StopReported is set once the sandbox's stop went out as a
	// CONTAINER_STOPPED event.
	StopReported bool `json:",omitempty"`
	// HooksStopped is set once NRI plugins were told of the stop, so a
	// second StopPodSandbox tells them nothing.
	HooksStopped bool `json:",omitempty"`
	Pid          int
	PidStart     uint64 // start time of Pid, so a reused pid is never taken for it
	CgroupsPath  string
	ShmPath      string
	Dir          string // per-pod state directory
	Spec         json.RawMessage
}

// Name is the sandbox's unique name, as containerd and CRI-O build it: a
// kubelet never creates two pods with the same metadata and attempt.
func (r *Record) Name() string { return nameOf(r.Config.GetMetadata()) }

func nameOf(m *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%d", m.GetName(), m.GetNamespace(), m.GetUid(), m.GetAttempt())
}

// recordFile is the on-disk form; the CRI config is kept as protojson so it
// round-trips exactly.
type recordFile struct {
	Record
	Config json.RawMessage `json:"Config"`
}

func (r *Record) marshal() ([]byte, error) {
	cfg, err := protojson.Marshal(r.Config)
	if err != nil {
		return nil, fmt.Errorf("encode sandbox %s config: %w", r.ID, err)
	}
	return json.MarshalIndent(recordFile{Record: *r, Config: cfg}, "", "  ")
}

func unmarshalRecord(data []byte) (*Record, error) {
	var f recordFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	r := f.Record
	r.Config = &runtimeapi.PodSandboxConfig{}
	if err := protojson.Unmarshal(f.Config, r.Config); err != nil {
		return nil, fmt.Errorf("decode sandbox %s config: %w", r.ID, err)
	}
	return &r, nil
}
