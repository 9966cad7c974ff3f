// SPDX-License-Identifier: Apache-2.0

package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/atomicfile"
)

// IntentState says how far Setup got for a pod.
type IntentState string

const (
	// IntentAdding: CNI ADD may have started but did not finish as far as
	// podshim knows. After a crash the pod's network must be torn down.
	IntentAdding IntentState = "adding"
	// IntentReady: CNI ADD succeeded; Result holds the pod's addresses.
	IntentReady IntentState = "ready"
)

// Intent is the on-disk record of one pod's network attachment. It carries
// everything Teardown needs, so teardown after a crash or a config change
// still undoes exactly what ADD did.
type Intent struct {
	Pod    Pod    `json:"pod"`
	NetNS  string `json:"netns"`
	IfName string `json:"ifName"`
	// Network is the network name, ConfFile the file it came from (for
	// people), ConfList the complete config list used at ADD (for DEL).
	Network  string          `json:"network"`
	ConfFile string          `json:"confFile"`
	ConfList json.RawMessage `json:"confList"`
	State    IntentState     `json:"state"`
	Result   *Result         `json:"result,omitempty"`
	Created  time.Time       `json:"created"`
}

func (m *Manager) intentPath(podID string) string {
	return filepath.Join(m.intentDir, podID+".json")
}

// writeIntent stores in durably: a crash right after must find it.
func (m *Manager) writeIntent(in *Intent) error {
	data, err := json.MarshalIndent(in, "", "  ")
	if err != nil {
		return fmt.Errorf("encode network intent for pod %s: %w", in.Pod.ID, err)
	}
	if err := atomicfile.WriteFile(m.intentPath(in.Pod.ID), data, 0o600); err != nil {
		return fmt.Errorf("write network intent for pod %s: %w", in.Pod.ID, err)
	}
	return nil
}

// readIntent returns the pod's intent, or nil if it has none.
func (m *Manager) readIntent(podID string) (*Intent, error) {
	data, err := os.ReadFile(m.intentPath(podID))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read network intent for pod %s: %w", podID, err)
	}
	var in Intent
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("parse network intent %s: %w", m.intentPath(podID), err)
	}
	return &in, nil
}

func (m *Manager) removeIntent(podID string) error {
	if err := atomicfile.Remove(m.intentPath(podID)); err != nil {
		return fmt.Errorf("remove network intent for pod %s: %w", podID, err)
	}
	return nil
}

// Intents lists every pod that has (or may have) network state: the
// sandbox layer calls it at start-up to tear down pods whose setup was
// interrupted (IntentAdding) or whose sandbox no longer exists. Unreadable
// records are logged and skipped rather than blocking the whole start-up.
func (m *Manager) Intents() ([]Intent, error) {
	entries, err := os.ReadDir(m.intentDir)
	if err != nil {
		return nil, fmt.Errorf("list network intents: %w", err)
	}
	var out []Intent
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		in, err := m.readIntent(strings.TrimSuffix(name, ".json"))
		if err != nil || in == nil {
			klog.ErrorS(err, "Skipping network intent", "file", name)
			continue
		}
		out = append(out, *in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod.ID < out[j].Pod.ID })
	return out, nil
}

// LookupIntent returns the pod's intent; ok is false when the pod has no
// network state. It lets the sandbox layer report a pod's IPs after a
// restart.
func (m *Manager) LookupIntent(podID string) (in Intent, ok bool, err error) {
	if err := validPodID(podID); err != nil {
		return Intent{}, false, err
	}
	p, err := m.readIntent(podID)
	if err != nil || p == nil {
		return Intent{}, false, err
	}
	return *p, true, nil
}
