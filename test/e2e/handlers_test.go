// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/registry"
)

const crunBinary = "/usr/bin/crun"

// needCrun skips where Debian's crun package is missing (make deps
// installs it): podshim configures crun as a handler only when it is.
func needCrun(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(crunBinary); err != nil {
		t.Skipf("crun is not installed (make deps installs Debian's): %v", err)
	}
}

// runtimeList returns the container IDs a runtime binary holds in root.
func runtimeList(t *testing.T, binary, root string) []string {
	t.Helper()
	out, err := exec.Command(binary, "--root", root, "list", "--format", "json").Output()
	if err != nil {
		t.Fatalf("%s --root %s list: %v", binary, root, err)
	}
	var cs []struct {
		ID string `json:"id"`
	}
	if s := strings.TrimSpace(string(out)); s != "" && s != "null" {
		if err := json.Unmarshal(out, &cs); err != nil {
			t.Fatalf("%s list: %v: %s", binary, err, out)
		}
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func writeJSON(t *testing.T, path string, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStatusListsEachHandlerAndUnknownOnesAreRefused(t *testing.T) {
	needCrun(t)
	d := startDaemon(t, "[runtimes.test-handler]\nbinary = \""+filepath.Join(filepath.Dir(podshimBinary(t)), "runc")+"\"\n")
	st, err := d.rt.Status(ctxT(t, 10*time.Second), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*runtimeapi.RuntimeHandlerFeatures{}
	for _, h := range st.RuntimeHandlers {
		got[h.Name] = h.Features
	}
	for _, name := range []string{"", "runc", "crun", "test-handler"} {
		if _, ok := got[name]; !ok {
			t.Errorf("Status lists no handler %q: %v", name, st.RuntimeHandlers)
		}
	}
	// runc answers `features` with "rro"; crun 1.8 has no features
	// command, and is credited with rro only by the trial mount.
	if !got["runc"].GetRecursiveReadOnlyMounts() {
		t.Errorf("runc should report recursive read-only mounts on this kernel: %v", st.RuntimeHandlers)
	}
	// "" is the default handler, with its features.
	def := "runc"
	if h := os.Getenv("E2E_DEFAULT_RUNTIME"); h != "" {
		def = h
	}
	if got[""].GetRecursiveReadOnlyMounts() != got[def].GetRecursiveReadOnlyMounts() {
		t.Errorf("the default handler %q and %q report different features: %v", "", def, st.RuntimeHandlers)
	}
	if !got["crun"].GetRecursiveReadOnlyMounts() {
		t.Errorf("crun 1.8 applies rro (the trial mount shows it), yet Status denies it: %v", st.RuntimeHandlers)
	}

	_, err = d.rt.RunPodSandbox(ctxT(t, time.Minute), &runtimeapi.RunPodSandboxRequest{
		Config: podConfig("no-such-handler"), RuntimeHandler: "kata"})
	wantCode(t, err, codes.InvalidArgument, "crun, runc, test-handler")
}

// A pod run under crun keeps crun for itself and its container through
// exec, logs, a daemon crash and restart, stop and removal; runc's root
// never sees it.
func TestPodUnderCrunKeepsItsHandlerAcrossARestart(t *testing.T) {
	needCrun(t)
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	podCfg := podConfig("crun-pod")
	podCfg.LogDirectory = filepath.Join(dir, "logs")
	podFile := writeJSON(t, filepath.Join(dir, "pod.json"), podCfg)
	ctrFile := writeJSON(t, filepath.Join(dir, "ctr.json"), &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "talker"},
		Image:    &runtimeapi.ImageSpec{Image: image},
		Command:  []string{"sh", "-c", "echo hello from crun; exec sleep 1000"},
		LogPath:  "talker.log",
	})
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := crictl(t, d, nil, args...)
		if err != nil {
			t.Fatalf("crictl %v: %v\n%s%s\npodshim: %s", args, err, out, errOut, d.log)
		}
		return strings.TrimSpace(out)
	}
	pod := run("runp", "--runtime", "crun", podFile)
	ctr := run("create", pod, ctrFile, podFile)
	run("start", ctr)

	crunRoot := filepath.Join(d.dir, "state", "runtimes", "crun")
	runcRoot := filepath.Join(d.dir, "state", "runc")
	runcBin := filepath.Join(filepath.Dir(d.bin), "runc")
	check := func(when string) {
		t.Helper()
		ids := runtimeList(t, crunBinary, crunRoot)
		if !contains(ids, pod) || !contains(ids, ctr) {
			t.Errorf("%s: crun's root holds %v, want the pause %s and the container %s", when, ids, pod, ctr)
		}
		if ids := runtimeList(t, runcBin, runcRoot); contains(ids, pod) || contains(ids, ctr) {
			t.Errorf("%s: runc's root holds %v: the pod ran under runc", when, ids)
		}
		st, _ := podStatus(t, d, pod)
		if st.RuntimeHandler != "crun" {
			t.Errorf("%s: pod reports runtime handler %q", when, st.RuntimeHandler)
		}
		if out := run("exec", ctr, "echo", "exec ok"); out != "exec ok" {
			t.Errorf("%s: exec printed %q", when, out)
		}
		if out := run("logs", ctr); !strings.Contains(out, "hello from crun") {
			t.Errorf("%s: logs: %q", when, out)
		}
		var stats struct {
			Stats []struct {
				Memory struct {
					WorkingSetBytes struct {
						Value string `json:"value"`
					} `json:"workingSetBytes"`
				} `json:"memory"`
			} `json:"stats"`
		}
		out := run("stats", "-o", "json", "--id", ctr)
		if err := json.Unmarshal([]byte(out), &stats); err != nil || len(stats.Stats) != 1 ||
			stats.Stats[0].Memory.WorkingSetBytes.Value == "" || stats.Stats[0].Memory.WorkingSetBytes.Value == "0" {
			t.Errorf("%s: stats from the container's cgroup: %v: %s", when, err, out)
		}
	}
	check("after start")
	run("update", "--memory", "134217728", ctr)
	d.kill()
	d.start()
	check("after a daemon kill and restart")

	run("stop", "--timeout", "2", ctr)
	run("rm", ctr)
	run("stopp", pod)
	run("rmp", pod)
	if ids := runtimeList(t, crunBinary, crunRoot); len(ids) != 0 {
		t.Errorf("crun's root still holds %v after removal", ids)
	}
}
