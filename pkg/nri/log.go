// SPDX-License-Identifier: Apache-2.0

package nri

import (
	"context"

	nrilog "github.com/containerd/nri/pkg/log"
	"k8s.io/klog/v2"
)

// klogLogger sends the NRI library's messages to podshim's log, with the
// library's debug lines at -v 2.
type klogLogger struct{}

func (klogLogger) Debugf(_ context.Context, format string, args ...any) {
	klog.V(2).Infof("nri: "+format, args...)
}
func (klogLogger) Infof(_ context.Context, format string, args ...any) {
	klog.V(1).Infof("nri: "+format, args...)
}
func (klogLogger) Warnf(_ context.Context, format string, args ...any) {
	klog.Warningf("nri: "+format, args...)
}
func (klogLogger) Errorf(_ context.Context, format string, args ...any) {
	klog.Errorf("nri: "+format, args...)
}

func useKlog() { nrilog.Set(klogLogger{}) }
