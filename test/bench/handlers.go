// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// handlerReadyReport is pod ready through crictl under each runtime
// handler, the handlers taking turns pod by pod so that load drift hits
// them alike.
type handlerReadyReport struct {
	Pods     int                     `json:"pods"`
	Note     string                  `json:"note"`
	Handlers map[string]distribution `json:"crictl_ms"`
}

// benchHandlers are the handlers measured: runc, and crun when Debian's
// package is installed (podshim then configures it).
func benchHandlers() []string {
	hs := []string{"runc"}
	if _, err := os.Stat("/usr/bin/crun"); err == nil {
		hs = append(hs, "crun")
	}
	return hs
}

func measureHandlers(ctx context.Context, e *env, n int, handlers []string) (*handlerReadyReport, error) {
	rep := &handlerReadyReport{Pods: n, Handlers: map[string]distribution{},
		Note: "crictl runp --runtime H + create + start, sequential; one untimed warm-up pod per handler; handlers alternate"}
	samples := map[string][]float64{}
	for _, h := range handlers {
		if _, err := podReadyCrictl(ctx, e, "warm-"+h, h); err != nil {
			return nil, fmt.Errorf("handler %s: %w", h, err)
		}
	}
	for i := 0; i < n; i++ {
		for j := range handlers {
			h := handlers[(i+j)%len(handlers)]
			d, err := podReadyCrictl(ctx, e, fmt.Sprintf("lat-%s-%d", h, i), h)
			if err != nil {
				return nil, fmt.Errorf("handler %s: %w", h, err)
			}
			samples[h] = append(samples[h], ms(d))
		}
	}
	for h, s := range samples {
		rep.Handlers[h] = distributionOf(s)
	}
	return rep, nil
}

// handlerTimeout keeps a wedged handler from eating the whole run.
const handlerTimeout = 5 * time.Minute
