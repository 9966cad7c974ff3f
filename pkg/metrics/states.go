// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stateTimeout bounds how long a scrape may wait for the pods' monitors to
// report their containers' states.
const stateTimeout = 5 * time.Second

// States counts objects by state at scrape time: pods by their CRI state,
// containers by theirs. The daemon supplies the counting functions.
type States struct {
	Pods       func() map[string]int
	Containers func(ctx context.Context) map[string]int
}

var (
	podsDesc = prometheus.NewDesc(namespace+"_pods", "Pod sandboxes, by CRI state (ready, notready).",
		[]string{"state"}, nil)
	containersDesc = prometheus.NewDesc(namespace+"_containers", "Containers, by CRI state (created, running, exited, unknown).",
		[]string{"state"}, nil)
)

type statesCollector struct{ s States }

func (c statesCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- podsDesc
	ch <- containersDesc
}

func (c statesCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.Pods != nil {
		for state, n := range c.s.Pods() {
			ch <- prometheus.MustNewConstMetric(podsDesc, prometheus.GaugeValue, float64(n), state)
		}
	}
	if c.s.Containers != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stateTimeout)
		defer cancel()
		for state, n := range c.s.Containers(ctx) {
			ch <- prometheus.MustNewConstMetric(containersDesc, prometheus.GaugeValue, float64(n), state)
		}
	}
}
