// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

// report is the whole run, printed as a table and written as JSON.
type report struct {
	Started     time.Time           `json:"started"`
	Seconds     float64             `json:"seconds"`
	Machine     machine             `json:"machine"`
	Flags       flagsReport         `json:"flags"`
	PodReady    *podReadyReport     `json:"pod_ready,omitempty"`
	ByHandler   *handlerReadyReport `json:"pod_ready_by_handler,omitempty"`
	PerPod      *perPodReport       `json:"memory_per_pod,omitempty"`
	DaemonIdle  *daemonReport       `json:"daemon_idle,omitempty"`
	DaemonAfter *memMiB             `json:"daemon_after_run,omitempty"`
	Concurrent  *concurrentReport   `json:"concurrent,omitempty"`
	Compare     *comparison         `json:"comparison,omitempty"`
	Leaks       []leakCheck         `json:"leak_checks,omitempty"`
	PodsMade    int                 `json:"pods_made"`
	Pods        []podRef            `json:"pods"`
	Notes       []string            `json:"notes,omitempty"`
	Errors      []string            `json:"errors,omitempty"`
	Pass        bool                `json:"pass"`
}

type flagsReport struct {
	Pods       int `json:"pods"`
	Concurrent int `json:"concurrent"`
	MemPods    int `json:"mem_pods"`
}

// machine says what the numbers were measured on; the load average tells
// whether something else competed for the two cores.
type machine struct {
	Podshim     string `json:"podshim_version"`
	CPUs        int    `json:"cpus"`
	Kernel      string `json:"kernel"`
	LoadAtStart string `json:"loadavg_at_start"`
	LoadAtEnd   string `json:"loadavg_at_end"`
}

func machineInfo(bin string) machine {
	out, _ := exec.Command(filepath.Join(bin, "podshim"), "version").Output()
	return machine{Podshim: strings.TrimSpace(string(out)), CPUs: runtime.NumCPU(),
		Kernel: readTrim("/proc/sys/kernel/osrelease"), LoadAtStart: loadavg()}
}

func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	return strings.Join(f[:min(3, len(f))], " ")
}

func readTrim(path string) string {
	data, _ := os.ReadFile(path)
	return strings.TrimSpace(string(data))
}

// finish sets the verdict: every phase ran, every pod worked, nothing
// leaked. Budgets are reported, never judged: timings on a shared machine
// are not a verdict.
func (r *report) finish() {
	r.Seconds = round2(time.Since(r.Started).Seconds())
	r.Machine.LoadAtEnd = loadavg()
	r.Pass = len(r.Errors) == 0 && r.Concurrent != nil && len(r.Concurrent.Failures) == 0 && len(r.Leaks) > 0
	for _, l := range r.Leaks {
		r.Pass = r.Pass && l.Pass
	}
}

func (r *report) write(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func (r *report) print(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "\npodshim bench (%s): %d CPUs, kernel %s, load %s at start, %s at end; %.0f s\n",
		m.Podshim, m.CPUs, m.Kernel, m.LoadAtStart, m.LoadAtEnd, r.Seconds)
	fmt.Fprintf(w, "flags: -pods %d -concurrent %d -mem-pods %d\n", r.Flags.Pods, r.Flags.Concurrent, r.Flags.MemPods)
	if p := r.PodReady; p != nil {
		fmt.Fprintf(w, "\n%-52s %8s %8s %8s\n", fmt.Sprintf("pod ready, ms (%d pods each way, image present)", p.Pods), "p50", "p90", "max")
		row := func(name string, d distribution) {
			fmt.Fprintf(w, "  %-50s %8.1f %8.1f %8.1f\n", name, d.P50, d.P90, d.Max)
		}
		row("crictl runp + create + start (design's measure)", p.Crictl)
		row("gRPC RunPodSandbox + Create + StartContainer", p.GRPC)
		fmt.Fprintf(w, "  %-50s %8.1f\n", "crictl's own cost (p50 difference)", p.Crictl.P50-p.GRPC.P50)
	}
	if p := r.ByHandler; p != nil {
		fmt.Fprintf(w, "\n%-52s %8s %8s %8s\n", fmt.Sprintf("pod ready by runtime handler, ms (%d pods each)", p.Pods), "p50", "p90", "max")
		for _, h := range sortedKeys(p.Handlers) {
			d := p.Handlers[h]
			fmt.Fprintf(w, "  %-50s %8.1f %8.1f %8.1f\n", "crictl runp --runtime "+h+" + create + start", d.P50, d.P90, d.Max)
		}
	}
	memHeader := func(title string) {
		fmt.Fprintf(w, "\n%-52s %8s %8s %8s\n", title, "VmRSS", "RssAnon", "PSS")
	}
	memRow := func(name string, v memMiB, extra string) {
		line := fmt.Sprintf("  %-50s %8.2f %8.2f %8.2f  %s", name, v.RSS, v.RssAnon, v.PSS, extra)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	if p := r.PerPod; p != nil {
		memHeader(fmt.Sprintf("memory per running pod, MiB (mean of %d pods)", p.Pods))
		memRow("monitor + pause", p.PerPod, verdict(p.Within, p.BudgetMiB, p.Compared))
		memRow("  monitor ("+p.Monitor+")", p.Monitors, "")
		memRow("  pause", p.Pauses, "")
	}
	if d := r.DaemonIdle; d != nil {
		memHeader("daemon, MiB")
		memRow("idle: started, one image pulled, no pods", d.Memory, verdict(d.Within, d.BudgetMiB, d.Compared))
		if r.DaemonAfter != nil {
			memRow("after the run, all pods removed (for reference)", *r.DaemonAfter, "")
		}
	}
	if c := r.Concurrent; c != nil {
		fmt.Fprintf(w, "\n%d pods created concurrently (%s)\n", c.Pods, batchWords(c.Batch))
		fmt.Fprintf(w, "  all Running: %d of %d in %.2f s (%.2f pods/s); removed concurrently in %.2f s\n",
			c.Running, c.Pods, c.CreateSeconds, c.PodsPerSecond, c.RemoveSeconds)
		fmt.Fprintf(w, "  %s pods all created and running (%d failures)\n", passFail(len(c.Failures) == 0), len(c.Failures))
		if c.DaemonAtPods != nil {
			fmt.Fprintf(w, "  daemon with %d pods running: %.1f MiB RSS, %.1f MiB PSS\n", c.Running, c.DaemonAtPods.RSS, c.DaemonAtPods.PSS)
		}
		if r := c.Restart; r != nil {
			fmt.Fprintf(w, "  daemon killed -9 with %d pods, restarted: answers after %.0f ms, lists every pod ready and container running after %.0f ms (goal 500 ms at 100 pods)\n",
				r.Pods, r.AnswerMs, r.ListsEverythingMs)
		}
		if len(c.Periodic) > 0 {
			fmt.Fprintf(w, "  %-48s %8s %8s %8s  (%d calls each, goal p99 < 20 ms)\n", fmt.Sprintf("periodic calls at %d pods, ms", c.Running), "p50", "p99", "max", periodicSamples)
			for _, name := range sortedKeys(c.Periodic) {
				d := c.Periodic[name]
				mark := "met"
				if d.P99 >= 20 {
					mark = "MISSED"
				}
				fmt.Fprintf(w, "    %-46s %8.2f %8.2f %8.2f  %s\n", name, d.P50, d.P99, d.Max, mark)
			}
		}
		printSome(w, c.Failures)
	}
	if r.Compare != nil {
		r.Compare.print(w)
	}
	if len(r.Leaks) > 0 {
		fmt.Fprintf(w, "\nleak checks, after removing all %d pods of the run\n", r.PodsMade)
		for _, l := range r.Leaks {
			settled := ""
			if l.Pass && l.SettledMs > 0 {
				settled = fmt.Sprintf(" (clean after %.0f ms; first look found %d: see first_look in the JSON)", l.SettledMs, len(l.FirstLook))
			}
			fmt.Fprintf(w, "  %s %s%s\n", passFail(l.Pass), l.Name, settled)
			printSome(w, l.Leftovers)
		}
	}
	if len(r.Notes)+len(r.Errors) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	fmt.Fprintf(w, "\nresult: %s\n", passFail(r.Pass))
}

func verdict(within bool, budget float64, measure string) string {
	word := "within"
	if !within {
		word = "OVER"
	}
	return fmt.Sprintf("budget %g MiB on %s: %s", budget, measure, word)
}

func passFail(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// printSome lists the first few items; the JSON report has them all.
func printSome(w io.Writer, items []string) {
	for i, s := range items {
		if i == 8 {
			fmt.Fprintf(w, "      ... and %d more\n", len(items)-i)
			return
		}
		fmt.Fprintf(w, "      %s\n", s)
	}
}

func sortedKeys(m map[string]distribution) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func batchWords(b int) string {
	if b <= 0 {
		return "all at once"
	}
	return fmt.Sprintf("%d at a time", b)
}
