// SPDX-License-Identifier: Apache-2.0

// Command bench measures podshim against the design's performance budgets:
// pod-ready latency (through crictl and directly over gRPC), memory added
// per running pod, the daemon's idle RSS, and 100 pods created and removed
// concurrently with nothing leaked.
//
//	go run ./test/bench [-pods N] [-concurrent M] [-out FILE]
//
// It runs as root on a node: it starts the offline test registry and a
// podshim on temporary dirs, with a pod bridge and subnet of its own fenced
// off from every other interface, and removes all of it when done, also on
// failure and Ctrl-C. It reports numbers; only failed pods and leaks make
// it exit non-zero, because timings on a shared machine are not a verdict.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	opts := options{}
	flag.IntVar(&opts.pods, "pods", 30, "pods measured sequentially for pod-ready latency (each way: crictl and gRPC)")
	flag.IntVar(&opts.concurrent, "concurrent", 100, "pods created concurrently, then removed concurrently")
	flag.IntVar(&opts.batch, "batch", 0, "create the concurrent pods this many at a time (0: all at once)")
	flag.IntVar(&opts.memPods, "mem-pods", 10, "pods kept running while memory per pod is read")
	flag.StringVar(&opts.out, "out", "", "write the JSON report to this file")
	flag.IntVar(&opts.daemonV, "daemon-v", 0, "the daemon's klog -v level (0, what a node runs, is what is measured)")
	flag.StringVar(&opts.logs, "logs", "", "copy the daemon's and the registry's logs into this dir (once they stopped) before the temp dir goes")
	flag.StringVar(&opts.bin, "bin", "", "directory of the built binaries (default: bin/ of the podshim module above the working directory)")
	flag.DurationVar(&opts.timeout, "timeout", 20*time.Minute, "bound on the measurements; clean-up runs after it")
	flag.StringVar(&opts.containerd, "containerd", "", "bin dir of containerd and containerd-shim-runc-v2 to compare with (make bench builds them); empty: no comparison")
	flag.IntVar(&opts.rounds, "rounds", 3, "alternating rounds of the comparison with containerd")
	flag.IntVar(&opts.comparePods, "compare-pods", 10, "pods per runtime and round in the comparison's crictl pod cycle")
	flag.IntVar(&opts.critestSamples, "critest-samples", 20, "samples per runtime and round of each critest -benchmark lifecycle")
	flag.Parse()
	if opts.pods < 1 || opts.concurrent < 1 || opts.memPods < 1 || opts.rounds < 1 || opts.comparePods < 1 || opts.critestSamples < 1 {
		fmt.Fprintln(os.Stderr, "bench: -pods, -concurrent, -mem-pods, -rounds, -compare-pods and -critest-samples must be at least 1")
		os.Exit(2)
	}
	os.Exit(run(opts))
}

type options struct {
	pods, concurrent, memPods int
	batch                     int
	daemonV                   int
	containerd                string
	rounds, comparePods       int
	critestSamples            int
	out, bin, logs            string
	timeout                   time.Duration
}

// run returns the exit code: 0 all pods worked and nothing leaked, 1 a
// failure or leak, 2 the harness could not run at all.
func run(opts options) int {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: must run as root (it runs a container runtime)")
		return 2
	}
	bin, err := binDir(opts.bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	// Signals stay caught until the very end, so a second Ctrl-C cannot cut
	// the clean-up short; every clean-up step is bounded instead.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), opts.timeout)
	defer cancel()
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping and cleaning up\n", s)
		cancel()
		for s := range sigs {
			fmt.Fprintf(os.Stderr, "bench: %v: clean-up in progress, please wait\n", s)
		}
	}()

	e, err := newEnv(bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	e.keepLogs, e.daemonV = opts.logs, opts.daemonV
	rep := &report{Started: time.Now().UTC(), Machine: machineInfo(bin),
		Flags: flagsReport{Pods: opts.pods, Concurrent: opts.concurrent, MemPods: opts.memPods}}
	runErr := measure(ctx, e, opts, rep)
	if runErr == nil && opts.containerd != "" {
		// After podshim's own phases and their leak checks: containerd's
		// pods are on a bridge and subnet of their own.
		rep.Compare, runErr = compareWithContainerd(ctx, e, opts.containerd, e.registryAddr, opts.rounds, opts.comparePods, opts.critestSamples)
	}
	if runErr != nil {
		rep.Errors = append(rep.Errors, runErr.Error())
		if !errors.Is(runErr, context.Canceled) {
			e.printLogTail(os.Stderr)
		}
	}
	if cerr := e.cleanup(); cerr != nil {
		rep.Errors = append(rep.Errors, "clean-up: "+cerr.Error())
	}
	rep.Notes = e.notes
	rep.finish()
	rep.print(os.Stdout)
	if opts.out != "" {
		if err := rep.write(opts.out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Printf("report written to %s\n", opts.out)
	}
	if !rep.Pass {
		return 1
	}
	return 0
}

// measure runs every phase in order; the first error ends the run (the
// clean-up still follows). Leak checks run whenever pods were made and the
// run was not interrupted, so a failed phase still says what it left.
func measure(ctx context.Context, e *env, opts options, rep *report) (err error) {
	step := func(name string) { fmt.Fprintf(os.Stderr, "bench: %s\n", name) }
	defer func() {
		rep.PodsMade, rep.Pods = len(e.pods), e.pods
		// An interrupted or timed-out run skips the checks: it must end
		// promptly, and its clean-up removes the pods anyway.
		if len(e.pods) > 0 && ctx.Err() == nil {
			if err != nil {
				// A phase that failed may have left its pods: remove them
				// first, so only what removal leaves counts as a leak.
				if rerr := e.removeAllPods(); rerr != nil {
					rep.Errors = append(rep.Errors, rerr.Error())
				}
			}
			step("checking for leaks")
			rep.Leaks = checkLeaks(e)
		}
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			err = fmt.Errorf("%w (bound: -timeout %v)", err, opts.timeout)
		case errors.Is(err, context.Canceled):
			err = fmt.Errorf("interrupted: %w", err)
		}
	}()

	step("starting the test registry and podshim")
	if err := e.start(ctx); err != nil {
		return err
	}
	step("pulling " + busyboxImage + " through the mirror")
	if err := e.pull(ctx); err != nil {
		return err
	}
	step("reading the daemon's idle memory")
	if rep.DaemonIdle, err = measureDaemonIdle(ctx, e); err != nil {
		return err
	}
	step(fmt.Sprintf("pod-ready latency: %d pods each through crictl and gRPC", opts.pods))
	if rep.PodReady, err = measurePodReady(ctx, e, opts.pods); err != nil {
		return err
	}
	handlers := benchHandlers()
	step(fmt.Sprintf("pod-ready latency per runtime handler %v: %d pods each through crictl", handlers, opts.pods))
	hctx, hcancel := context.WithTimeout(ctx, handlerTimeout)
	rep.ByHandler, err = measureHandlers(hctx, e, opts.pods, handlers)
	hcancel()
	if err != nil {
		return err
	}
	step(fmt.Sprintf("memory per pod with %d pods running", opts.memPods))
	if rep.PerPod, err = measurePerPod(ctx, e, opts.memPods); err != nil {
		return err
	}
	step(fmt.Sprintf("%d pods concurrently (batch %d), then the kubelet's periodic calls", opts.concurrent, opts.batch))
	rep.Concurrent, err = measureConcurrent(ctx, e, opts.concurrent, opts.batch)
	if err != nil {
		return err
	}
	if m, err := readMem(e.daemonPid()); err == nil {
		after := toMiB(m, 1)
		rep.DaemonAfter = &after
	}
	return nil
}
