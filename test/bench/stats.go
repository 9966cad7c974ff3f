// SPDX-License-Identifier: Apache-2.0

package main

import (
	"math"
	"slices"
)

// distribution summarises samples in milliseconds. Percentiles are
// nearest-rank: always one of the measured values, never interpolated.
type distribution struct {
	P50     float64   `json:"p50"`
	P90     float64   `json:"p90"`
	P99     float64   `json:"p99"`
	Max     float64   `json:"max"`
	Mean    float64   `json:"mean"`
	Samples []float64 `json:"samples"`
}

func distributionOf(samples []float64) distribution {
	d := distribution{Samples: samples}
	if len(samples) == 0 {
		return d
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	d.P50 = nearestRank(sorted, 0.50)
	d.P90 = nearestRank(sorted, 0.90)
	d.P99 = nearestRank(sorted, 0.99)
	d.Max = sorted[len(sorted)-1]
	var sum float64
	for _, s := range sorted {
		sum += s
	}
	d.Mean = round2(sum / float64(len(sorted)))
	return d
}

func nearestRank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
