// SPDX-License-Identifier: Apache-2.0

// Command pause is podshim's offline stand-in for the Kubernetes pause
// container in the pause:3.x test image. critest itself only pulls and
// removes that image, but a runtime configured to use it as its sandbox
// image needs the real behaviour: sleep forever holding the pod's
// namespaces, reap orphaned children (it is PID 1 when the pod shares a PID
// namespace), and exit 0 on SIGINT or SIGTERM.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	child := make(chan os.Signal, 16)
	signal.Notify(child, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-child:
			reap()
		}
	}
}

// reap collects every exited child so none stays a zombie. SIGCHLD
// deliveries coalesce, hence the loop.
func reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
