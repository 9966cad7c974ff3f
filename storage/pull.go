// SPDX-License-Identifier: Apache-2.0

package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"k8s.io/klog/v2"
)

// Pull fetches the image ref names (any form Normalize accepts) and
// returns it once its content is stored, its layers unpacked and its
// metadata committed. Concurrent pulls of one reference with one
// credential share the work; content already stored is not fetched again,
// though the reference is always resolved anew.
//
// The caller's cancellation or deadline comes back as an error satisfying
// errors.Is(err, context.Canceled / context.DeadlineExceeded).
func (s *Store) Pull(ctx context.Context, ref string, auth *Auth) (Image, error) {
	named, err := parseRef(ref)
	if err != nil {
		return Image{}, fmt.Errorf("pull: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", named, err)
	}
	key := named.String() + "\x00" + auth.fingerprint()
	call, started := s.pulls.join(key, func() *pullCall {
		c := &pullCall{done: make(chan struct{})}
		c.ctx, c.cancel = context.WithCancelCause(s.ctx)
		return c
	})
	if started {
		if err := s.beginWork(); err != nil {
			s.pulls.finish(key, call, imageRecord{}, err)
		} else {
			go func() {
				defer s.inflight.Done()
				rec, err := s.pull(call.ctx, call.cancel, named, auth)
				s.contentChanged() // stored something, or left temp files
				s.pulls.finish(key, call, rec, err)
			}()
		}
	}
	select {
	case <-call.done:
		if call.err != nil {
			return Image{}, fmt.Errorf("pull %s: %w", named, call.err)
		}
		return call.rec.image(s.isPinned(call.rec))
	case <-ctx.Done():
		s.pulls.leave(key, call)
		return Image{}, fmt.Errorf("pull %s: %w", named, ctx.Err())
	}
}

// userAgent is how pulls introduce themselves to registries (ggcr appends
// its own name and version).
const userAgent = "podshim"

// endpointError is why one endpoint could not provide the image.
type endpointError struct {
	ep  endpoint
	err error
}

// pull tries each endpoint for the reference's registry in turn: mirrors
// first, then the registry itself. Content an endpoint delivered before
// failing stays stored, so the next one does not fetch it again.
func (s *Store) pull(ctx context.Context, cancel context.CancelCauseFunc, named reference.Named, auth *Auth) (imageRecord, error) {
	started := time.Now()
	dog := newWatchdog(s.opts.ProgressTimeout, func(hosts []string) {
		waiting := ""
		if d := s.downloads.describe(named.String()); d != "" {
			waiting = " while fetching " + d
		}
		cancel(fmt.Errorf("no data received from %s for %s%s: %w", strings.Join(hosts, ", "), s.opts.ProgressTimeout, waiting, ErrProgressTimeout))
	})
	defer dog.stop()
	rt := transport.NewUserAgent(&watchedTransport{next: s.transport, dog: dog}, userAgent)
	l := s.newLease()
	defer l.release()

	creds, err := auth.authenticator()
	if err != nil {
		return imageRecord{}, err
	}
	var failures []endpointError
	endpoints := s.endpointsFor(reference.Domain(named))
	for i, ep := range endpoints {
		a := authn.Anonymous
		if auth.appliesTo(ep.host) {
			a = creds
		}
		rec, err := s.pullFrom(ctx, ep, named, a, rt, l)
		if err == nil {
			klog.V(1).InfoS("Pulled image", "ref", named, "id", rec.ID, "from", ep, "duration", time.Since(started).Round(time.Millisecond))
			return rec, nil
		}
		if ctx.Err() != nil {
			// Stalled (the cause names the host), store closing, or every
			// caller gone: no other endpoint is tried.
			return imageRecord{}, context.Cause(ctx)
		}
		failures = append(failures, endpointError{ep, err})
		if i < len(endpoints)-1 {
			klog.InfoS("Pull from endpoint failed, trying the next one", "ref", named, "endpoint", ep, "err", err)
		}
	}
	return imageRecord{}, mostMeaningful(failures)
}

// mostMeaningful picks the error to report when every endpoint failed:
// content the registry refused to vouch for, then refused credentials,
// then anything unexpected, then unreachable, and "not found" only when
// nothing said more. The others are named in the message.
func mostMeaningful(failures []endpointError) error {
	best := 0
	for i, f := range failures {
		if errorRank(f.err) > errorRank(failures[best].err) {
			best = i
		}
	}
	main := failures[best]
	if len(failures) == 1 {
		return fmt.Errorf("%s: %w", main.ep, main.err)
	}
	var others []string
	for i, f := range failures {
		if i != best {
			others = append(others, fmt.Sprintf("%s: %v", f.ep, f.err))
		}
	}
	return fmt.Errorf("%s: %w (also tried %s)", main.ep, main.err, strings.Join(others, "; "))
}

func errorRank(err error) int {
	switch {
	case errors.Is(err, ErrBadContent):
		return 5
	case errors.Is(err, ErrUnauthorized):
		return 4
	case errors.Is(err, ErrUnavailable):
		return 2
	case errors.Is(err, ErrNotFound):
		return 1
	}
	return 3
}
