// SPDX-License-Identifier: Apache-2.0

// Command faults is `make faults`: pod lifecycles (runp, create, start,
// exec, stop, rm, stopp, rmp) against a real podshim whose daemon is
// killed -9 at a random step of each round (or, every fifth round, whose
// pod monitor is), restarted, and cleaned up as the kubelet would. After
// the last round a sweep of the host must find nothing left.
//
// Every random choice comes from -seed, printed at start, so a failing
// run can be replayed (the kill's delay within a step is timing, so a
// replay takes the same steps, not always the same instruction).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The pod network is this program's own, so it runs beside the e2e tests,
// conformance and the bench.
const (
	bridgeName   = "psfault0"
	podSubnet    = "10.187.0.0/16"
	subnetPrefix = "10.187."
	image        = "registry.k8s.io/e2e-test-images/busybox:1.29-2"
)

var steps = []string{"runp", "create", "start", "exec", "stop", "rm", "stopp", "rmp"}

type run struct {
	bin, work, root, state, sock, config string
	registry, daemon                     *exec.Cmd
	daemonDone                           chan struct{}
	conn                                 *grpc.ClientConn
	rt                                   runtimeapi.RuntimeServiceClient
	img                                  runtimeapi.ImageServiceClient
	mountBase                            map[string]bool
	// ids is every pod and container ID this run saw, for the sweep.
	ids  map[string]bool
	lost []string
	// stepErrs are calls that failed after a monitor was killed: noted,
	// not lost unless the clean-up cannot remove the pod.
	stepErrs []string
	keepLog  string
}

func main() {
	rounds := flag.Int("rounds", 200, "pod lifecycles to run")
	seed := flag.Int64("seed", time.Now().UnixNano(), "seed of every random choice (printed; pass it to replay)")
	bin := flag.String("bin", "", "dir of the built binaries (default: bin/ of the checkout)")
	verbose := flag.Bool("v", false, "print each round")
	keepLog := flag.String("log", "", "copy the daemon's log (every restart) to this file at the end")
	flag.Parse()
	if os.Geteuid() != 0 {
		fatal("faults: needs root")
	}
	dir := *bin
	if dir == "" {
		wd, _ := os.Getwd()
		for d := wd; d != "/"; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "bin")
				break
			}
		}
	}
	for _, n := range []string{"podshim", "podshim-monitor", "pause", "runc", "test-registry", "cni/bridge"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			fatal("faults: %s missing: run `make build tools bin/test-registry`", filepath.Join(dir, n))
		}
	}
	lock, err := os.OpenFile(filepath.Join(os.TempDir(), "podshim-faults.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil || syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		fatal("faults: another run holds %s/podshim-faults.lock", os.TempDir())
	}
	fmt.Printf("faults: seed %d, %d rounds\n", *seed, *rounds)
	r := &run{bin: dir, ids: map[string]bool{}}
	start := time.Now()
	leaks, err := r.main(*rounds, rand.New(rand.NewSource(*seed)), *verbose)
	r.keepLog = *keepLog
	if cerr := r.cleanup(); cerr != nil {
		fmt.Fprintln(os.Stderr, "faults: clean-up:", cerr)
	}
	if err != nil {
		fatal("faults: %v (seed %d)", err, *seed)
	}
	for _, l := range r.stepErrs {
		fmt.Println("  note:", l)
	}
	for _, l := range r.lost {
		fmt.Println("  lost:", l)
	}
	for _, l := range leaks {
		fmt.Println("  leaked:", l)
	}
	fmt.Printf("faults: %d rounds, %d lost, %d leaked (%s, seed %d)\n", *rounds, len(r.lost), len(leaks), time.Since(start).Round(time.Second), *seed)
	if len(r.lost)+len(leaks) > 0 {
		os.Exit(1)
	}
}

func fatal(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(2)
}

func (r *run) main(rounds int, rng *rand.Rand, verbose bool) ([]string, error) {
	var err error
	if r.work, err = os.MkdirTemp("", "podshim-faults."); err != nil {
		return nil, err
	}
	r.root, r.state = filepath.Join(r.work, "root"), filepath.Join(r.work, "state")
	r.sock, r.config = filepath.Join(r.state, "podshim.sock"), filepath.Join(r.work, "config.toml")
	for _, d := range []string{r.work, r.root, r.state, filepath.Join(r.work, "cni"), filepath.Join(r.work, "logs")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, err
		}
		os.Chmod(d, 0o711)
	}
	removeFence()
	if out, err := exec.Command("iptables", append([]string{"-w", "-I"}, fenceRule...)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("fence: %v: %s", err, out)
	}
	addr, err := r.startRegistry()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("[cni]\nconf_dir = %q\ndefault_bridge = %q\ndefault_subnet = %q\n\n[registry.mirrors]\n\"registry.k8s.io\" = [\"http://%s\"]\n\n[registry.hosts.%q]\ninsecure = true\n",
		filepath.Join(r.work, "cni"), bridgeName, podSubnet, addr, addr)
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	if err := r.startDaemon(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	_, err = r.img.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	cancel()
	if err != nil {
		return nil, fmt.Errorf("pull: %w", err)
	}
	r.mountBase = map[string]bool{}
	for _, m := range mountsBelow(r.work) {
		r.mountBase[m] = true
	}
	for i := 0; i < rounds; i++ {
		if err := r.round(i, rng, verbose); err != nil {
			return nil, fmt.Errorf("round %d: %w", i, err)
		}
	}
	return r.sweep(), nil
}

// round runs one lifecycle. kill is the index of the step during which
// the daemon is killed -9, after delay; in a monitor round the pod's
// monitor is killed -9 right after start instead, and the daemon lives.
func (r *run) round(i int, rng *rand.Rand, verbose bool) error {
	monitorRound := i%5 == 4
	kill := rng.Intn(len(steps))
	// The delay may outlast a short step: the kill then lands in a later
	// one. Up to 250 ms reaches every point of RunPodSandbox.
	delay := time.Duration(rng.Intn(250)) * time.Millisecond
	what := fmt.Sprintf("round %d: kill -9 daemon %s after %s began", i, delay, steps[kill])
	if monitorRound {
		kill, what = -1, fmt.Sprintf("round %d: kill -9 monitor after start", i)
	}
	if verbose {
		fmt.Println("faults:", what)
	}
	// created: what a create call reported; removing: whose removal (its
	// own, or its pod's rmp) was asked for. Lost (see check) is created,
	// not removing, and yet gone after the fault; or anything the
	// kubelet's clean-up cannot remove.
	created := map[string]string{}
	removing := map[string]bool{}
	var pod, ctr string
	podCfg := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: fmt.Sprintf("fault-%d", i), Namespace: "faults", Uid: fmt.Sprintf("uid-%d", i)},
		LogDirectory: filepath.Join(r.work, "logs", fmt.Sprint(i)),
		Linux:        &runtimeapi.LinuxPodSandboxConfig{},
	}
	killed := false
	for s, name := range steps {
		if s == kill {
			go func(d *exec.Cmd) { time.Sleep(delay); d.Process.Signal(syscall.SIGKILL) }(r.daemon)
			killed = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		switch name {
		case "runp":
			var resp *runtimeapi.RunPodSandboxResponse
			if resp, err = r.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: podCfg}); err == nil {
				pod = resp.PodSandboxId
				created[pod] = "pod " + pod
			}
		case "create":
			var resp *runtimeapi.CreateContainerResponse
			resp, err = r.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{PodSandboxId: pod, SandboxConfig: podCfg,
				Config: &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "c"}, Image: &runtimeapi.ImageSpec{Image: image},
					Command: []string{"sleep", "3600"}, LogPath: "c.log", Linux: &runtimeapi.LinuxContainerConfig{}}})
			if err == nil {
				ctr = resp.ContainerId
				created[ctr] = "container " + ctr + " of pod " + pod
			}
		case "start":
			_, err = r.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: ctr})
			if err == nil && monitorRound {
				if n := killMonitor(r.state, pod); n == 0 {
					err = fmt.Errorf("no monitor found for pod %s", pod)
				}
			}
		case "exec":
			_, err = r.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: ctr, Cmd: []string{"true"}, Timeout: 10})
			if monitorRound {
				err = nil // the container died with its monitor
			}
		case "stop":
			_, err = r.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: ctr})
		case "rm":
			removing[ctr] = true
			_, err = r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: ctr})
		case "stopp":
			_, err = r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: pod})
		case "rmp":
			removing[pod], removing[ctr] = true, true
			_, err = r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: pod})
		}
		cancel()
		if err != nil {
			if !killed && !monitorRound {
				return fmt.Errorf("%s: %s: %v", what, name, err)
			}
			if monitorRound && !killed {
				// Without its monitor a pod must still go as the kubelet
				// removes it: the clean-up below decides.
				r.stepErrs = append(r.stepErrs, fmt.Sprintf("%s: %s: %v", what, name, err))
			}
			break // the daemon is down: the kubelet would retry after it is back
		}
	}
	for id := range created {
		r.ids[id] = true
	}
	if killed {
		<-r.daemonDone
		if err := r.startDaemon(); err != nil {
			return fmt.Errorf("%s: restart: %w", what, err)
		}
	}
	return r.kubeletCleanup(what, created, removing)
}

// kubeletCleanup checks nothing created was lost, then stops and removes
// every container and pod the daemon lists, retrying as the kubelet does.
func (r *run) kubeletCleanup(what string, created map[string]string, removing map[string]bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	listed := map[string]bool{}
	pods, err := r.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return fmt.Errorf("%s: list pods: %w", what, err)
	}
	ctrs, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
	if err != nil {
		return fmt.Errorf("%s: list containers: %w", what, err)
	}
	for _, p := range pods.Items {
		listed[p.Id] = true
	}
	for _, c := range ctrs.Containers {
		listed[c.Id] = true
	}
	for id, desc := range created {
		if !removing[id] && !listed[id] {
			r.lost = append(r.lost, fmt.Sprintf("%s: %s reported created, gone after the fault", what, desc))
		}
	}
	var lastErr error
	for pass := 0; pass < 5; pass++ {
		pods, err1 := r.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
		ctrs, err2 := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{})
		if err1 != nil || err2 != nil {
			lastErr = fmt.Errorf("list: %v %v", err1, err2)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if len(pods.Items)+len(ctrs.Containers) == 0 {
			return nil
		}
		lastErr = nil
		for _, c := range ctrs.Containers {
			r.ids[c.Id] = true
			if _, err := r.rt.StopContainer(ctx, &runtimeapi.StopContainerRequest{ContainerId: c.Id}); err != nil {
				lastErr = fmt.Errorf("stop container %s: %v", c.Id, err)
			}
			if _, err := r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: c.Id}); err != nil {
				lastErr = fmt.Errorf("remove container %s: %v", c.Id, err)
			}
		}
		for _, p := range pods.Items {
			r.ids[p.Id] = true
			if _, err := r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				lastErr = fmt.Errorf("stop pod %s: %v", p.Id, err)
			}
			if _, err := r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
				lastErr = fmt.Errorf("remove pod %s: %v", p.Id, err)
			}
		}
		if lastErr != nil {
			time.Sleep(200 * time.Millisecond)
		}
	}
	r.lost = append(r.lost, fmt.Sprintf("%s: unremovable after 5 passes: %v", what, lastErr))
	return nil
}

func (r *run) startRegistry() (string, error) {
	ready := filepath.Join(r.work, "registry.addr")
	logf, err := os.Create(filepath.Join(r.work, "registry.log"))
	if err != nil {
		return "", err
	}
	r.registry = exec.Command(filepath.Join(r.bin, "test-registry"), "--listen", "127.0.0.1:0", "--ready-file", ready)
	r.registry.Stdout, r.registry.Stderr = logf, logf
	if err := r.registry.Start(); err != nil {
		return "", err
	}
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if data, err := os.ReadFile(ready); err == nil && strings.TrimSpace(string(data)) != "" {
			return strings.TrimSpace(string(data)), nil
		}
	}
	return "", fmt.Errorf("test registry did not come up (see %s)", logf.Name())
}

func (r *run) startDaemon() error {
	logf, err := os.OpenFile(filepath.Join(r.work, "podshim.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	d := exec.Command(filepath.Join(r.bin, "podshim"), "--config", r.config, "--root", r.root, "--state", r.state, "--listen", r.sock)
	d.Stdout, d.Stderr = logf, logf
	if err := d.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { d.Wait(); close(done) }()
	r.daemon, r.daemonDone = d, done
	if r.conn != nil {
		r.conn.Close()
	}
	if r.conn, err = grpc.NewClient("unix://"+r.sock, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		return err
	}
	r.rt, r.img = runtimeapi.NewRuntimeServiceClient(r.conn), runtimeapi.NewImageServiceClient(r.conn)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			return fmt.Errorf("podshim exited (see %s)", logf.Name())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err = r.rt.Version(ctx, &runtimeapi.VersionRequest{})
		cancel()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("podshim did not answer: %v", err)
}

// cleanup stops what this run started (by pid) and removes what is left
// of it, leaks included (the sweep has named them).
func (r *run) cleanup() error {
	if r.daemon != nil && r.rt != nil {
		select {
		case <-r.daemonDone:
		default:
			// Pods an aborted run left: through the daemon, which alone
			// frees their IPs and rules.
			r.kubeletCleanup("final clean-up", nil, nil)
		}
	}
	if r.daemon != nil {
		r.daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.daemonDone:
		case <-time.After(20 * time.Second):
			r.daemon.Process.Kill()
			<-r.daemonDone
		}
	}
	if r.registry != nil {
		r.registry.Process.Kill()
		r.registry.Wait()
	}
	if r.state != "" {
		runc, root := filepath.Join(r.bin, "runc"), filepath.Join(r.state, "runc")
		if out, err := exec.Command(runc, "--root", root, "list", "-q").Output(); err == nil {
			for _, id := range strings.Fields(string(out)) {
				exec.Command(runc, "--root", root, "delete", "--force", id).Run()
			}
		}
		for pid := range monitors(r.state) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		for _, cg := range leftCgroups(r.ids) {
			os.Remove(cg)
		}
	}
	if r.work != "" {
		points := mountsBelow(r.work)
		sort.Sort(sort.Reverse(sort.StringSlice(points)))
		for _, p := range points {
			syscall.Unmount(p, syscall.MNT_DETACH)
		}
	}
	removeFence()
	exec.Command("ip", "link", "del", bridgeName).Run()
	if r.keepLog != "" && r.work != "" {
		if data, err := os.ReadFile(filepath.Join(r.work, "podshim.log")); err == nil {
			os.WriteFile(r.keepLog, data, 0o644)
		}
	}
	if r.work != "" {
		return os.RemoveAll(r.work)
	}
	return nil
}
