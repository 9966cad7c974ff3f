// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// comparison is podshim against containerd, measured in one run.
type comparison struct {
	Reference string       `json:"reference"`
	Rounds    int          `json:"rounds"`
	Rows      []compareRow `json:"rows"`
	// Met is whether every row with a goal met it.
	Met bool `json:"met"`
}

// compareRow is one operation's medians (ms, or MiB for memory) and their
// ratio podshim / containerd; Goal is the highest ratio the goal allows
// (0: reported only).
type compareRow struct {
	Op         string  `json:"op"`
	Unit       string  `json:"unit"`
	Podshim    float64 `json:"podshim"`
	Containerd float64 `json:"containerd"`
	Ratio      float64 `json:"ratio"`
	Goal       float64 `json:"goal,omitempty"`
	Met        bool    `json:"met"`
	Samples    int     `json:"samples_each"`
}

// goals are the per-operation targets, as ratios to containerd.
var goals = map[string]float64{
	opPodReady: 0.6,
	opRunp:     0.5,
	opCreate:   1,
}

// compareWithContainerd alternates the two runtimes round by round (the
// one measured first changes each round, so neither always gets the
// quieter machine): a pod cycle through crictl, then critest's lifecycle
// benchmarks. Medians are over every sample of every round.
func compareWithContainerd(ctx context.Context, e *env, ctrdBin, registryAddr string, rounds, pods, critestSamples int) (*comparison, error) {
	step := func(s string) { fmt.Fprintf(os.Stderr, "bench: compare: %s\n", s) }
	step("starting containerd from " + ctrdBin)
	ref, err := e.startContainerd(ctx, ctrdBin, registryAddr)
	e.ref = ref
	if err != nil {
		return nil, err
	}
	if _, err := e.crictlWith(ctx, ref.crictlConfig, "pull", busyboxImage); err != nil {
		return nil, err
	}
	type side struct {
		name, config, sock string
		got                samples
	}
	sides := []*side{
		{name: "podshim", config: e.crictlConfig, sock: e.sock, got: samples{}},
		{name: "containerd", config: ref.crictlConfig, sock: ref.sock, got: samples{}},
	}
	for round := range rounds {
		order := []*side{sides[0], sides[1]}
		if round%2 == 1 {
			order = []*side{sides[1], sides[0]}
		}
		for _, s := range order {
			step(fmt.Sprintf("round %d/%d: %s: %d pods through crictl", round+1, rounds, s.name, pods))
			got, err := e.podCycle(ctx, s.config, fmt.Sprintf("%s-%d", s.name[:4], round), pods)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			s.got.add(got)
			step(fmt.Sprintf("round %d/%d: %s: critest -benchmark, %d samples", round+1, rounds, s.name, critestSamples))
			got, err = e.critestBenchmark(ctx, s.sock, filepath.Join(e.work, "critest", fmt.Sprintf("%s-%d", s.name, round)), critestSamples)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
			s.got.add(got)
			// critest's image benchmark removes the image the pods use.
			if _, err := e.crictlWith(ctx, s.config, "pull", busyboxImage); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	c := &comparison{Reference: "containerd " + ref.version, Rounds: rounds, Met: true}
	ops := append(append([]string{}, cycleOps...), critestOps...)
	for _, op := range ops {
		p, q := sides[0].got[op], sides[1].got[op]
		if len(p) == 0 || len(q) == 0 {
			continue
		}
		key := op
		if !strings.HasPrefix(op, "crictl") && !strings.HasPrefix(op, "pod ready") {
			key = critestOpLabel(op)
		}
		row := compareRow{Op: key, Unit: "ms", Podshim: round2(median(p)), Containerd: round2(median(q)), Samples: min(len(p), len(q))}
		row.Goal = goals[op]
		if row.Goal == 0 {
			row.Goal = 1 // every operation at most containerd's
		}
		if row.Containerd > 0 {
			row.Ratio = round2(row.Podshim / row.Containerd)
		}
		row.Met = row.Ratio <= row.Goal
		c.Met = c.Met && row.Met
		c.Rows = append(c.Rows, row)
	}
	if m, err := readMem(ref.child.cmd.Process.Pid); err == nil {
		if pm, err := readMem(e.daemonPid()); err == nil {
			ctrd, ours := toMiB(m, 1), toMiB(pm, 1)
			c.Rows = append(c.Rows, compareRow{Op: "daemon RSS after the comparison, all pods removed", Unit: "MiB",
				Podshim: ours.RSS, Containerd: ctrd.RSS, Ratio: round2(ours.RSS / ctrd.RSS), Met: true, Samples: 1})
		}
	}
	return c, nil
}

func median(v []float64) float64 { return distributionOf(v).P50 }

func (c *comparison) print(w io.Writer) {
	fmt.Fprintf(w, "\npodshim and %s side by side, medians over %d alternating rounds\n", c.Reference, c.Rounds)
	fmt.Fprintf(w, "  %-52s %10s %10s %7s %6s\n", "", "podshim", "containerd", "ratio", "goal")
	for _, r := range c.Rows {
		goal := ""
		if r.Unit == "ms" {
			mark := "met"
			if !r.Met {
				mark = "MISSED"
			}
			goal = fmt.Sprintf("≤%g %s", r.Goal, mark)
		}
		fmt.Fprintf(w, "  %-52s %8.1f%-2s %8.1f%-2s %7.2f  %s\n", r.Op, r.Podshim, unitSuffix(r.Unit), r.Containerd, unitSuffix(r.Unit), r.Ratio, goal)
	}
}

func unitSuffix(u string) string {
	if u == "MiB" {
		return "M"
	}
	return ""
}
