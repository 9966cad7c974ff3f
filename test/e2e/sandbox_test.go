// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestNetworkReadyOnceADefaultNetworkIsWritten(t *testing.T) {
	pn := newPodNet(t)
	d := startDaemonOn(t, pn, "")
	st, err := d.rt.Status(ctxT(t, 10*time.Second), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Status.Conditions {
		if !c.Status {
			t.Fatalf("condition %s false: %s %s", c.Type, c.Reason, c.Message)
		}
	}
	entries, _ := os.ReadDir(pn.confDir)
	if len(entries) == 0 {
		t.Fatal("podshim should write its default network into an empty CNI config dir")
	}
}

func TestNetworkNotReadyWithABrokenConfig(t *testing.T) {
	pn := newPodNet(t)
	os.WriteFile(filepath.Join(pn.confDir, "10-broken.conflist"), []byte("{not json"), 0o644)
	d := startDaemonOn(t, pn, "")
	st, err := d.rt.Status(ctxT(t, 10*time.Second), &runtimeapi.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Status.Conditions {
		if c.Type == runtimeapi.NetworkReady && (c.Status || c.Reason == "" || c.Message == "") {
			t.Fatalf("NetworkReady should be false with a reason: %+v", c)
		}
	}
}

func TestPodsReachEachOtherOverPodIPs(t *testing.T) {
	d := startDaemon(t, "")
	pn := d.net
	a := runPod(t, d, podConfig("pod-a"))
	b := runPod(t, d, podConfig("pod-b"))
	stA, infoA := podStatus(t, d, a)
	stB, infoB := podStatus(t, d, b)
	for _, st := range []*runtimeapi.PodSandboxStatus{stA, stB} {
		if st.State != runtimeapi.PodSandboxState_SANDBOX_READY {
			t.Fatalf("pod %s not ready: %v", st.Id, st.State)
		}
		_, subnet, _ := net.ParseCIDR(pn.subnet)
		if ip := net.ParseIP(st.GetNetwork().GetIp()); ip == nil || !subnet.Contains(ip) {
			t.Fatalf("pod %s IP %q is not in %s", st.Id, st.GetNetwork().GetIp(), pn.subnet)
		}
	}
	if stA.Network.Ip == stB.Network.Ip {
		t.Fatal("two pods got the same IP")
	}
	serveHTTP(t, infoA.NetNamespace, stA.Network.Ip+":8080", "pod-a")
	if got := fetch(t, infoB.NetNamespace, "http://"+stA.Network.Ip+":8080/"); !strings.Contains(got, "hello from pod-a") {
		t.Fatalf("pod-b fetched %q", got)
	}
	removePod(t, d, a)
	removePod(t, d, b)
}

func TestHostPortReachesThePodFromLoopback(t *testing.T) {
	d := startDaemon(t, "")
	cfg := podConfig("web")
	// A port free now: other test runs on this machine forward ports too.
	port := freeLoopbackPort(t)
	cfg.PortMappings = []*runtimeapi.PortMapping{{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 80, HostPort: int32(port)}}
	id := runPod(t, d, cfg)
	st, info := podStatus(t, d, id)
	serveHTTP(t, info.NetNamespace, st.Network.Ip+":80", "web")
	if got := fetch(t, "", fmt.Sprintf("http://127.0.0.1:%d/", port)); !strings.Contains(got, "hello from web") {
		t.Fatalf("host loopback fetched %q", got)
	}
	removePod(t, d, id)
	out, _ := exec.Command("iptables-save", "-t", "nat").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, st.Network.Ip) || strings.Contains(line, fmt.Sprintf("--dport %d ", port)) {
			t.Fatalf("the hostPort rule outlived the pod: %s", line)
		}
	}
}

// freeLoopbackPort is a TCP port nothing listens on now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestHostNetworkPodSharesTheNodesNetwork(t *testing.T) {
	d := startDaemon(t, "")
	cfg := podConfig("hostnet")
	cfg.Hostname = ""
	cfg.Linux.SecurityContext = &runtimeapi.LinuxSandboxSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
	}
	id := runPod(t, d, cfg)
	st, info := podStatus(t, d, id)
	if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || info.NetNamespace != "" {
		t.Fatalf("host-network pod: %v, netns %q", st.State, info.NetNamespace)
	}
	if got, want := nsInode(t, fmt.Sprintf("/proc/%d/ns/net", info.Pid)), nsInode(t, "/proc/self/ns/net"); got != want {
		t.Fatalf("pause is in netns %s, the host's is %s", got, want)
	}
	if got, want := nsInode(t, fmt.Sprintf("/proc/%d/ns/uts", info.Pid)), nsInode(t, "/proc/self/ns/uts"); got != want {
		t.Fatal("a host-network pod should keep the node's hostname (UTS namespace)")
	}
	removePod(t, d, id)
}

func TestHostnameDNSAndSharedNamespaces(t *testing.T) {
	d := startDaemon(t, "")
	cfg := podConfig("dns")
	cfg.Hostname = "custom-host"
	cfg.DnsConfig = &runtimeapi.DNSConfig{Servers: []string{"10.10.10.10"}, Searches: []string{"example.test"}, Options: []string{"ndots:8"}}
	cfg.Linux.Sysctls = map[string]string{"kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "0"}
	id := runPod(t, d, cfg)
	st, info := podStatus(t, d, id)

	out, err := exec.Command("nsenter", fmt.Sprintf("--uts=/proc/%d/ns/uts", info.Pid), "hostname").Output()
	if err != nil || strings.TrimSpace(string(out)) != "custom-host" {
		t.Fatalf("pod hostname %q %v", out, err)
	}
	dir := filepath.Join(d.dir, "state", "sandboxes", st.Id)
	resolv, _ := os.ReadFile(filepath.Join(dir, "resolv.conf"))
	for _, want := range []string{"nameserver 10.10.10.10", "search example.test", "options ndots:8"} {
		if !strings.Contains(string(resolv), want) {
			t.Fatalf("resolv.conf lacks %q:\n%s", want, resolv)
		}
	}
	hosts, _ := os.ReadFile(filepath.Join(dir, "hosts"))
	if !strings.Contains(string(hosts), st.Network.Ip+"\tcustom-host") {
		t.Fatalf("hosts should map the pod IP to its hostname:\n%s", hosts)
	}
	// The pause process owns fresh IPC, UTS, PID and network namespaces.
	for _, ns := range []string{"ipc", "uts", "pid", "net"} {
		if nsInode(t, fmt.Sprintf("/proc/%d/ns/%s", info.Pid, ns)) == nsInode(t, "/proc/self/ns/"+ns) {
			t.Errorf("pause shares the host's %s namespace", ns)
		}
	}
	// Namespaced sysctls are set inside the pod only.
	got, _ := exec.Command("nsenter", fmt.Sprintf("--ipc=/proc/%d/ns/ipc", info.Pid), "cat", "/proc/sys/kernel/shm_rmid_forced").Output()
	if strings.TrimSpace(string(got)) != "1" {
		t.Errorf("kernel.shm_rmid_forced in the pod = %q", got)
	}
	// A per-pod /dev/shm is a tmpfs of its own.
	if m := mountsUnder(filepath.Join(dir, "shm")); len(m) != 1 {
		t.Errorf("per-pod shm mounts: %v", m)
	}
	removePod(t, d, id)
}

func TestBadSandboxConfigsAreRefusedCleanly(t *testing.T) {
	d := startDaemon(t, "")
	pn := d.net
	cases := map[string]*runtimeapi.PodSandboxConfig{
		"no metadata": {Linux: &runtimeapi.LinuxPodSandboxConfig{}},
		"kernel.panic": func() *runtimeapi.PodSandboxConfig {
			c := podConfig("sysctl")
			c.Linux.Sysctls = map[string]string{"kernel.panic": "1"}
			return c
		}(),
		// A newline would add lines of the sender's choosing to the
		// pod's /etc/hosts or /etc/resolv.conf.
		"newline in hostname": func() *runtimeapi.PodSandboxConfig {
			c := podConfig("hostname")
			c.Hostname = "web\n10.0.0.1 kubernetes.default"
			return c
		}(),
		"newline in DNS search": func() *runtimeapi.PodSandboxConfig {
			c := podConfig("dns")
			c.DnsConfig = &runtimeapi.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"svc\nnameserver 10.0.0.66"}}
			return c
		}(),
		"DNS server not an IP": func() *runtimeapi.PodSandboxConfig {
			c := podConfig("dns2")
			c.DnsConfig = &runtimeapi.DNSConfig{Servers: []string{"dns.example"}}
			return c
		}(),
	}
	for name, cfg := range cases {
		_, err := d.rt.RunPodSandbox(ctxT(t, 30*time.Second), &runtimeapi.RunPodSandboxRequest{Config: cfg})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		}
	}
	// The same name twice is refused while the first pod exists.
	id := runPod(t, d, podConfig("twice"))
	_, err := d.rt.RunPodSandbox(ctxT(t, 30*time.Second), &runtimeapi.RunPodSandboxRequest{Config: podConfig("twice")})
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("duplicate name: want AlreadyExists, got %v", err)
	}
	removePod(t, d, id)
	assertNothingLeft(t, d, pn, nil)
}

func TestStopAndRemoveAreIdempotent(t *testing.T) {
	d := startDaemon(t, "")
	pn := d.net
	id := runPod(t, d, podConfig("idem"))
	_, info := podStatus(t, d, id)
	// The pause process dies behind podshim's back: stop must still work.
	syscall.Kill(info.Pid, syscall.SIGKILL)
	for i := 0; i < 2; i++ {
		if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("stop #%d: %v", i+1, err)
		}
	}
	st, _ := podStatus(t, d, id)
	if st.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("stopped pod state %v", st.State)
	}
	for i := 0; i < 2; i++ {
		if _, err := d.rt.RemovePodSandbox(ctxT(t, time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("remove #%d: %v", i+1, err)
		}
	}
	if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: "0123456789abcdef"}); err != nil {
		t.Fatalf("stop of an unknown pod should succeed: %v", err)
	}
	_, err := d.rt.PodSandboxStatus(ctxT(t, 10*time.Second), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("status of a removed pod: want NotFound, got %v", err)
	}
	assertNothingLeft(t, d, pn, []string{id})
}

func TestListFiltersAndRestart(t *testing.T) {
	d := startDaemon(t, "")
	pn := d.net
	a := runPod(t, d, podConfig("list-a"))
	b := runPod(t, d, podConfig("list-b"))
	if _, err := d.rt.StopPodSandbox(ctxT(t, time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: b}); err != nil {
		t.Fatal(err)
	}
	list := func(f *runtimeapi.PodSandboxFilter) []string {
		resp, err := d.rt.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range resp.Items {
			ids = append(ids, p.Id)
		}
		return ids
	}
	if got := list(nil); len(got) != 2 {
		t.Fatalf("all: %v", got)
	}
	if got := list(&runtimeapi.PodSandboxFilter{Id: a[:12]}); len(got) != 1 || got[0] != a {
		t.Fatalf("by id prefix: %v", got)
	}
	ready := &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}}
	if got := list(ready); len(got) != 1 || got[0] != a {
		t.Fatalf("ready: %v", got)
	}
	if got := list(&runtimeapi.PodSandboxFilter{LabelSelector: map[string]string{"app": "list-b"}}); len(got) != 1 || got[0] != b {
		t.Fatalf("by label: %v", got)
	}

	// Pods survive a daemon crash: still listed, still ready, same IP.
	stBefore, _ := podStatus(t, d, a)
	d.kill()
	d.start()
	if got := list(ready); len(got) != 1 || got[0] != a {
		t.Fatalf("after kill -9, ready pods: %v", got)
	}
	if st, _ := podStatus(t, d, a); st.Network.GetIp() != stBefore.Network.GetIp() {
		t.Fatalf("IP changed across a restart: %v -> %v", stBefore.Network, st.Network)
	}
	removePod(t, d, a)
	removePod(t, d, b)
	assertNothingLeft(t, d, pn, []string{a, b})
}

func TestTwentyConcurrentPodsLeaveNothingBehind(t *testing.T) {
	d := startDaemon(t, "")
	pn := d.net
	const n = 20
	ids := make([]string, n)
	pids := make([]int, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, err := d.rt.RunPodSandbox(ctxT(t, 2*time.Minute), &runtimeapi.RunPodSandboxRequest{Config: podConfig(fmt.Sprintf("many-%d", i))})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = resp.PodSandboxId
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		st, info := podStatus(t, d, id)
		if st.State != runtimeapi.PodSandboxState_SANDBOX_READY || seen[st.Network.Ip] {
			t.Fatalf("pod %d: state %v ip %s (duplicate: %v)", i, st.State, st.Network.Ip, seen[st.Network.Ip])
		}
		seen[st.Network.Ip] = true
		pids[i] = info.Pid
	}
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			d.rt.StopPodSandbox(ctxT(t, 2*time.Minute), &runtimeapi.StopPodSandboxRequest{PodSandboxId: id})
			if _, err := d.rt.RemovePodSandbox(ctxT(t, 2*time.Minute), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
				t.Errorf("remove %s: %v", id, err)
			}
		}(id)
	}
	wg.Wait()
	for _, pid := range pids {
		if pauseRuns(pid) {
			t.Errorf("pause pid %d still runs", pid)
		}
	}
	assertNothingLeft(t, d, pn, ids)
}

// assertNothingLeft checks, after pods were removed, that no netns, IP
// lease, mount, cgroup or iptables rule of theirs remains.
func assertNothingLeft(t *testing.T, d *daemon, pn podNet, ids []string) {
	t.Helper()
	if m := mountsUnder(d.dir); len(m) != 0 {
		t.Errorf("mounts left under the daemon's dirs: %v", m)
	}
	if entries, _ := os.ReadDir(filepath.Join(d.dir, "state", "sandboxes")); len(entries) != 0 {
		t.Errorf("per-pod dirs left: %v", entries)
	}
	// host-local keeps one file per leased IP.
	filepath.Walk(filepath.Join(d.dir, "state"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && net.ParseIP(filepath.Base(p)) != nil {
			t.Errorf("IP lease left: %s", p)
		}
		return nil
	})
	rules, _ := exec.Command("iptables-save").Output()
	for _, id := range ids {
		if strings.Contains(string(rules), id) {
			t.Errorf("iptables rules mention removed pod %s", id)
		}
		matches, _ := filepath.Glob("/sys/fs/cgroup/*/podshim/podshim-" + id)
		if len(matches) != 0 {
			t.Errorf("cgroups left: %v", matches)
		}
	}
}

// pauseRuns reports whether pid is a live (not zombie) pause process. The
// killed pause is reaped by the host's init, which may take a moment.
func pauseRuns(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return strings.Contains(s[:max(i, 0)], "(pause") && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

func TestVerboseStatusChecksPodNetwork(t *testing.T) {
	d := startDaemon(t, "")
	id := runPod(t, d, podConfig("checked"))
	if _, info := podStatus(t, d, id); info.NetworkCheck != "ok" {
		t.Fatalf("network check of a healthy pod: %q", info.NetworkCheck)
	}
	_, info := podStatus(t, d, id)
	if out, err := exec.Command("nsenter", "--net="+info.NetNamespace, "ip", "link", "del", "eth0").CombinedOutput(); err != nil {
		t.Fatalf("break the pod's network: %v\n%s", err, out)
	}
	if _, info := podStatus(t, d, id); info.NetworkCheck == "ok" {
		t.Fatal("the network check should notice the pod lost eth0")
	}
	// Teardown still frees everything, NAT rules included, although the
	// bridge plugin cannot learn the pod's address from a missing eth0.
	removePod(t, d, id)
	assertNothingLeft(t, d, d.net, []string{id})
}

func TestFailedRunPodSandboxRollsBackEverything(t *testing.T) {
	d := startDaemon(t, "")
	cfg := podConfig("doomed")
	// A namespaced sysctl with a value the kernel refuses: runc fails after
	// the netns, IP, shm and files already exist.
	cfg.Linux.Sysctls = map[string]string{"net.ipv4.ip_forward": "not-a-number"}
	_, err := d.rt.RunPodSandbox(ctxT(t, time.Minute), &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err == nil {
		t.Fatal("RunPodSandbox with a sysctl value the kernel refuses should fail")
	}
	resp, err := d.rt.ListPodSandbox(ctxT(t, 10*time.Second), &runtimeapi.ListPodSandboxRequest{})
	if err != nil || len(resp.Items) != 0 {
		t.Fatalf("a failed pod is listed: %v %v", resp, err)
	}
	assertNothingLeft(t, d, d.net, nil)
	pins, _ := os.ReadDir(filepath.Join(d.dir, "state", "network", "netns"))
	intents, _ := os.ReadDir(filepath.Join(d.dir, "state", "network", "intents"))
	if len(pins) != 0 || len(intents) != 0 {
		t.Fatalf("netns pins %v or intents %v left", pins, intents)
	}
	// The name is free again.
	cfg.Linux.Sysctls = nil
	runPod(t, d, cfg)
}

func TestSystemdCgroupDriverRunsPods(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		t.Skip("systemd is not running on this machine: runc's systemd cgroup driver needs it")
	}
	d := startDaemon(t, `cgroup_driver = "systemd"`)
	cfg := podConfig("sd")
	cfg.Linux.CgroupParent = "podshim-e2e.slice"
	id := runPod(t, d, cfg)
	if st, info := podStatus(t, d, id); st.State != runtimeapi.PodSandboxState_SANDBOX_READY || !strings.HasPrefix(info.CgroupsPath, "podshim-e2e.slice:") {
		t.Fatalf("systemd pod: %v %q", st.State, info.CgroupsPath)
	}
	removePod(t, d, id)
}

func TestPodCgroupParentIsHonoured(t *testing.T) {
	d := startDaemon(t, "")
	cfg := podConfig("cg")
	parent := fmt.Sprintf("/podshim-e2e-%d", os.Getpid())
	cfg.Linux.CgroupParent = parent
	id := runPod(t, d, cfg)
	_, info := podStatus(t, d, id)
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", info.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := parent + "/podshim-" + id
	if !strings.Contains(string(data), want) {
		t.Fatalf("pause should run in %s:\n%s", want, data)
	}
	removePod(t, d, id)
	if left, _ := filepath.Glob("/sys/fs/cgroup/*" + want); len(left) != 0 {
		t.Fatalf("pod cgroups left: %v", left)
	}
	// The parent belongs to the caller (the kubelet makes and removes it).
	for _, p := range []string{"memory", "cpu", "pids", "cpuset", "cpuacct", "devices", "freezer", "blkio", "systemd", "unified"} {
		os.Remove(filepath.Join("/sys/fs/cgroup", p, parent))
	}
}

func TestDualStackPodGetsBothFamilies(t *testing.T) {
	pn := newPodNet(t)
	v6 := fmt.Sprintf("fd00:197:%x::/64", netSeq.Load())
	pn.subnet += "," + v6
	d := startDaemonOn(t, pn, "")
	id := runPod(t, d, podConfig("dual"))
	st, info := podStatus(t, d, id)
	if net.ParseIP(st.GetNetwork().GetIp()).To4() == nil || len(st.GetNetwork().GetAdditionalIps()) != 1 {
		t.Fatalf("dual-stack pod network: %+v", st.GetNetwork())
	}
	_, v6net, _ := net.ParseCIDR(v6)
	extra := net.ParseIP(st.Network.AdditionalIps[0].Ip)
	if extra == nil || !v6net.Contains(extra) {
		t.Fatalf("additional IP %q is not in %s", st.Network.AdditionalIps[0].Ip, v6)
	}
	// The IPv6 address answers inside the pod too.
	serveHTTP(t, info.NetNamespace, "["+extra.String()+"]:8080", "v6")
	if got := fetch(t, info.NetNamespace, "http://["+extra.String()+"]:8080/"); !strings.Contains(got, "hello from v6") {
		t.Fatalf("fetched %q", got)
	}
	removePod(t, d, id)
	assertNothingLeft(t, d, d.net, []string{id})
}
