// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/test/registry"
)

// usernsHost is where the test pods' root lands on the host.
const usernsHost = 200000

func usernsOptions(mode runtimeapi.NamespaceMode, maps ...*runtimeapi.IDMapping) *runtimeapi.NamespaceOption {
	return &runtimeapi.NamespaceOption{UsernsOptions: &runtimeapi.UserNamespace{Mode: mode, Uids: maps, Gids: maps}}
}

// A hostUsers: false pod, as the kubelet makes it: its root is an
// unprivileged host user, yet owns its rootfs, its volume (whose files stay
// root's on disk) and its network namespace (sysfs mounts; the pod has its
// IP).
func TestUserNamespacedPod(t *testing.T) {
	reg := startRegistry(t, registry.Options{})
	d := startDaemon(t, "")
	st, err := d.rt.Status(ctxT(t, 10*time.Second), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !st.RuntimeHandlers[0].GetFeatures().GetUserNamespaces() {
		t.Skipf("this node cannot run user-namespaced pods (idmapped overlays or the runtime's idmapped mounts): %v", st.RuntimeHandlers)
	}
	image := reg.Addr + "/library/busybox:1"
	if _, err := pull(t, d, image, nil); err != nil {
		t.Fatal(err)
	}
	cfg := podConfig("userns")
	cfg.LogDirectory = t.TempDir()
	ns := usernsOptions(runtimeapi.NamespaceMode_POD, &runtimeapi.IDMapping{ContainerId: 0, HostId: usernsHost, Length: 65536})
	cfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: ns}
	e := &podEnv{d: d, image: image, pod: runPod(t, d, cfg), podCfg: cfg, logDir: cfg.LogDirectory}
	if ps, _ := podStatus(t, d, e.pod); ps.GetNetwork().GetIp() == "" {
		t.Errorf("the pod has no IP: %+v", ps.GetNetwork())
	}

	vol := t.TempDir() // root's, 0700
	c := e.containerConfig("main", "sh", "-c", strings.Join([]string{
		"cat /proc/self/uid_map",
		"echo uid=$(id -u)",
		"touch /rootfile && echo rootfile=$(stat -c %u /rootfile)",
		"echo vol=$(stat -c %u /data)",
		"echo hi > /data/f && echo written",
		"cat /sys/class/net/lo/ifindex >/dev/null && echo sysfs",
		"grep -q eth0 /proc/net/dev && echo eth0",
		"sleep 1000",
	}, "; "))
	c.Linux.SecurityContext = &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: ns}
	c.Mounts = []*runtimeapi.Mount{{ContainerPath: "/data", HostPath: vol}}
	id := e.create(t, c)
	if _, err := d.rt.StartContainer(ctxT(t, time.Minute), &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	log := filepath.Join(e.logDir, "main.log")
	waitForLog(t, log, "eth0")
	var got []string
	for _, l := range readLog(t, log) {
		got = append(got, strings.Join(strings.Fields(l.msg), " "))
	}
	want := []string{"0 200000 65536", "uid=0", "rootfile=0", "vol=0", "written", "sysfs", "eth0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("inside the pod:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var fst unix.Stat_t
	if err := unix.Stat(filepath.Join(vol, "f"), &fst); err != nil {
		t.Fatal(err)
	}
	if fst.Uid != 0 {
		t.Errorf("the pod root's file in its volume is uid %d on disk, want 0 (the volume is idmapped)", fst.Uid)
	}
	out, err := d.rt.ExecSync(ctxT(t, time.Minute), &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: []string{"cat", "/proc/1/uid_map"}})
	if err != nil || !strings.Contains(strings.Join(strings.Fields(string(out.GetStdout())), " "), "0 200000 65536") {
		t.Errorf("exec in the pod sees %q (%v), want its user namespace", out.GetStdout(), err)
	}
	// Seen from the host, the pod's pause is an unprivileged user.
	_, info := podStatus(t, d, e.pod)
	data, _ := os.ReadFile(filepath.Join("/proc", itoa(info.Pid), "status"))
	if want := "Uid:\t" + itoa(usernsHost+65535) + "\t"; !strings.Contains(string(data), want) {
		t.Errorf("pause %d is not host uid %d:\n%s", info.Pid, usernsHost+65535, data)
	}
}

// What no pod can run with is refused before anything is made.
func TestUserNamespaceOptionsRefused(t *testing.T) {
	d := startDaemon(t, "")
	one := &runtimeapi.IDMapping{ContainerId: 0, HostId: usernsHost, Length: 65536}
	for name, ns := range map[string]*runtimeapi.NamespaceOption{
		"mode CONTAINER":      usernsOptions(runtimeapi.NamespaceMode_CONTAINER),
		"mode TARGET":         usernsOptions(runtimeapi.NamespaceMode_TARGET),
		"two mappings":        usernsOptions(runtimeapi.NamespaceMode_POD, one, &runtimeapi.IDMapping{ContainerId: 0, HostId: 400000, Length: 65536}),
		"root unmapped":       usernsOptions(runtimeapi.NamespaceMode_POD, &runtimeapi.IDMapping{ContainerId: 1, HostId: usernsHost, Length: 65536}),
		"host root mapped in": usernsOptions(runtimeapi.NamespaceMode_POD, &runtimeapi.IDMapping{ContainerId: 0, HostId: 0, Length: 65536}),
		"host network": func() *runtimeapi.NamespaceOption {
			o := usernsOptions(runtimeapi.NamespaceMode_POD, one)
			o.Network = runtimeapi.NamespaceMode_NODE
			return o
		}(),
	} {
		cfg := podConfig("userns-bad")
		cfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: ns}
		_, err := d.rt.RunPodSandbox(ctxT(t, time.Minute), &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: RunPodSandbox = %v, want InvalidArgument", name, err)
		}
	}
	resp, err := d.rt.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(resp.Items) != 0 {
		t.Errorf("refused pods left %v (%v)", resp.GetItems(), err)
	}
}
