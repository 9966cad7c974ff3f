// SPDX-License-Identifier: Apache-2.0

package network

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// failAddPlugin is a CNI plugin that refuses every ADD and accepts every
// DEL: placed after bridge and portmap it makes ADD fail once they have
// taken an IP, made a veth and installed NAT rules.
const failAddPlugin = `#!/bin/sh
cat >/dev/null
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
ADD) echo '{"cniVersion":"1.0.0","code":999,"msg":"failadd refuses on purpose"}'; exit 1 ;;
esac
exit 0
`

func TestFailedSetupLeavesNothing(t *testing.T) {
	tn := newTestNet(t)
	fakeBins := t.TempDir()
	writeFile(t, filepath.Join(fakeBins, "failadd"), failAddPlugin)
	if err := os.Chmod(filepath.Join(fakeBins, "failadd"), 0o755); err != nil {
		t.Fatal(err)
	}
	tn.bins = append(tn.bins, fakeBins)
	dataDir := filepath.Join(tn.stateDir, "op-ipam")
	writeFile(t, filepath.Join(tn.confDir, "10-failing.conflist"), fmt.Sprintf(`{
  "cniVersion": "1.0.0", "name": "failing",
  "plugins": [
    {"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "subnet": %q, "dataDir": %q}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "failadd"}
  ]}`, tn.bridge, tn.subnet, dataDir))
	m := tn.manager(t)

	pod, ns := testPod(t, m, PortMapping{ContainerPort: 80, HostPort: freeHostPort(t)})
	_, err := m.Setup(context.Background(), pod, ns)
	if err == nil || !strings.Contains(err.Error(), "failadd refuses on purpose") {
		t.Fatalf("Setup = %v, want the plugin's refusal", err)
	}
	if _, ok, _ := m.LookupIntent(pod.ID); ok {
		t.Errorf("intent left after failed Setup")
	}
	if got := leases(t, filepath.Join(dataDir, "failing")); len(got) != 0 {
		t.Errorf("leases left: %v", got)
	}
	if rules := natRulesFor(t, pod.ID); len(rules) != 0 {
		t.Errorf("nat rules left: %v", rules)
	}
	if l, _ := nsLink(t, ns, "eth0"); l != nil {
		t.Errorf("eth0 left in the pod")
	}
	if cached, _ := filepath.Glob(filepath.Join(tn.stateDir, "cni-cache", "results", "*")); len(cached) != 0 {
		t.Errorf("libcni cache left: %v", cached)
	}
	if err := m.Teardown(context.Background(), pod, ns); err != nil {
		t.Errorf("Teardown after failed Setup: %v", err)
	}
}

func TestSetupWithoutUsableNetwork(t *testing.T) {
	requireRoot(t)
	confDir := t.TempDir()
	writeFile(t, filepath.Join(confDir, "10-broken.conflist"), `{"name":`)
	m, err := New(Options{ConfDir: confDir, BinDirs: []string{t.TempDir()}, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanupManager(t, m) })
	pod, ns := testPod(t, m)
	if _, err := m.Setup(context.Background(), pod, ns); !errors.Is(err, ErrNoNetwork) {
		t.Fatalf("Setup = %v, want ErrNoNetwork", err)
	}
	if in, _ := m.Intents(); len(in) != 0 {
		t.Errorf("intents left: %+v", in)
	}
}

func TestRecoveryAfterCrash(t *testing.T) {
	tn := newTestNet(t)
	m := tn.manager(t)
	ctx := context.Background()
	leaseDir := filepath.Join(m.ipamDir, DefaultNetworkName)

	// Crash between writing the intent and CNI ADD.
	early, earlyNS := testPod(t, m)
	n, err := m.currentNetwork()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.writeIntent(&Intent{Pod: early, NetNS: earlyNS, IfName: ifName, Network: n.list.Name,
		ConfFile: n.file, ConfList: n.inlined, State: IntentAdding, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}

	// Crash after a complete ADD; then the operator replaces the network
	// config before podshim comes back.
	late, lateNS := testPod(t, m, PortMapping{ContainerPort: 80, HostPort: freeHostPort(t)})
	res, err := m.Setup(ctx, late, lateNS)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(tn.confDir, DefaultConfFile)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tn.confDir, "05-other.conflist"), fmt.Sprintf(
		`{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"bridge","bridge":%q,"ipam":{"type":"host-local","subnet":"10.199.255.0/24","dataDir":%q}}]}`,
		tn.bridge, filepath.Join(tn.stateDir, "other-ipam")))

	// A leftover temporary intent from a crash mid-write is swept by New.
	stray := filepath.Join(m.intentDir, "."+late.ID+".json.tmp-123")
	writeFile(t, stray, "{")

	restarted := tn.manager(t)
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("temporary intent not swept: %v", err)
	}
	intents, err := restarted.Intents()
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]IntentState{}
	for _, in := range intents {
		states[in.Pod.ID] = in.State
	}
	if len(intents) != 2 || states[early.ID] != IntentAdding || states[late.ID] != IntentReady {
		t.Fatalf("intents after restart = %+v", intents)
	}

	for _, in := range intents {
		if err := restarted.Teardown(ctx, Pod{ID: in.Pod.ID}, in.NetNS); err != nil {
			t.Fatalf("Teardown %s: %v", in.Pod.ID, err)
		}
	}
	if intents, _ := restarted.Intents(); len(intents) != 0 {
		t.Errorf("intents after teardown: %+v", intents)
	}
	// The old network's lease is freed, though the config is gone.
	if got := leases(t, leaseDir); len(got) != 0 {
		t.Errorf("leases left (had %s): %v", res.IPs[0], got)
	}
	if rules := natRulesFor(t, late.ID); len(rules) != 0 {
		t.Errorf("nat rules left: %v", rules)
	}
}
