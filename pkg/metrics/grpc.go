// SPDX-License-Identifier: Apache-2.0

package metrics

import (
	"context"
	"path"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// UnaryInterceptor times every unary CRI call and counts its outcome.
func UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	observe(info.FullMethod, start, err)
	return resp, err
}

// StreamInterceptor does the same for the streaming RPCs (the Stream* lists,
// GetContainerEvents). An event stream lives as long as its client, so its
// duration says how long the kubelet stayed subscribed.
func StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	err := handler(srv, ss)
	observe(info.FullMethod, start, err)
	return err
}

func observe(fullMethod string, start time.Time, err error) {
	// "/runtime.v1.RuntimeService/RunPodSandbox" → "RunPodSandbox": the
	// method names of the two services do not overlap.
	method := path.Base(fullMethod)
	code := status.Code(err)
	criDuration.WithLabelValues(method).Observe(time.Since(start).Seconds())
	criRequests.WithLabelValues(method, code.String()).Inc()
	if code != codes.OK {
		criErrors.WithLabelValues(method, code.String()).Inc()
	}
}
