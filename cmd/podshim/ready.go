// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/sdnotify"
)

// readyTimeout bounds the wait for the daemon's own socket to answer.
const readyTimeout = 30 * time.Second

// notifyReady tells systemd (Type=notify) the daemon is ready once its CRI
// socket answers a Version call, as a kubelet's would: units ordered after
// podshim.service (the kubelet's) then start against a runtime that works.
func notifyReady(n sdnotify.Notifier, socket string) {
	if !n.Enabled() {
		return
	}
	if err := waitAnswering(socket, readyTimeout); err != nil {
		// Not ready: systemd's start timeout then fails the unit, which is
		// the truth.
		klog.Errorf("podshim: the CRI socket does not answer, not telling systemd it is ready: %v", err)
		return
	}
	if err := n.Notify("READY=1", "STATUS=serving the CRI on "+socket); err != nil {
		klog.Errorf("podshim: %v", err)
		return
	}
	klog.V(1).Infof("podshim: told systemd it is ready")
}

func waitAnswering(socket string, timeout time.Duration) error {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// WaitForReady: keep trying while the server comes up, within ctx.
	_, err = runtimeapi.NewRuntimeServiceClient(conn).Version(ctx, &runtimeapi.VersionRequest{}, grpc.WaitForReady(true))
	return err
}
