// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"k8s.io/klog/v2"

	"github.com/podshim/podshim/pkg/config"
	"github.com/podshim/podshim/pkg/cri"
	"github.com/podshim/podshim/pkg/metrics"
	"github.com/podshim/podshim/pkg/sdnotify"
	"github.com/podshim/podshim/pkg/streaming"
	"github.com/podshim/podshim/storage"
)

// shutdownGrace bounds how long in-flight RPCs may run after a signal.
const shutdownGrace = 10 * time.Second

func serveMain(args []string) int {
	fs := flag.CommandLine
	load := configFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return 2
	}
	cfg, err := load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "podshim: %v\n", err)
		return 1
	}
	if err := serve(cfg); err != nil {
		klog.Errorf("podshim: %v", err)
		klog.Flush()
		return 1
	}
	klog.Flush()
	return 0
}

func serve(cfg config.Config) error {
	// Taken first, so nothing the daemon starts inherits $NOTIFY_SOCKET.
	notifier := sdnotify.FromEnv()
	for _, dir := range []string{cfg.Root, cfg.State, filepath.Dir(cfg.Listen)} {
		// 0711: user-namespaced pods need to traverse down to their files.
		if err := os.MkdirAll(dir, 0o711); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	lock, err := lockRoot(cfg.Root)
	if err != nil {
		return err
	}
	defer lock.Close()

	// Unreferenced image content waits this long before it is deleted
	// (storage.Options.GCDelay): long enough for the pull that follows a
	// removal, short enough that the kubelet's image GC sees the space
	// freed well before it looks again.
	const imageGCDelay = 2 * time.Second
	images, err := storage.Open(storage.Options{
		Root:                   filepath.Join(cfg.Root, "images"),
		ContainersDir:          filepath.Join(cfg.Root, "containers"),
		Mirrors:                cfg.Registry.Mirrors,
		Hosts:                  storageHosts(cfg.Registry.Hosts),
		ProgressTimeout:        time.Duration(cfg.Image.ProgressTimeout),
		MaxConcurrentDownloads: cfg.Image.MaxConcurrentDownloads,
		PinnedImages:           cfg.Image.PinnedImages,
		GCDelay:                imageGCDelay,
	})
	if err != nil {
		return fmt.Errorf("open image store: %w", err)
	}
	defer images.Close()

	deps, err := openRuntime(cfg, images)
	if err != nil {
		return err
	}
	deps.Images = images
	plugins, err := startNRI(cfg, deps)
	if err != nil {
		return err
	}
	if plugins != nil {
		defer plugins.Stop()
	}
	streams, err := streaming.Start(cfg.StreamServerAddress, cri.StreamBackend{Containers: deps.Containers, Sandboxes: deps.Sandboxes})
	if err != nil {
		return err
	}
	defer streams.Close()
	deps.Streams = streams

	ln, err := listenUnix(cfg.Listen)
	if err != nil {
		return err
	}
	g := grpc.NewServer(grpc.ChainUnaryInterceptor(metrics.UnaryInterceptor), grpc.ChainStreamInterceptor(metrics.StreamInterceptor))
	svc := cri.New(cfg, deps, version)
	svc.Register(g)
	if cfg.MetricsAddress != "" {
		ms, err := metrics.Serve(cfg.MetricsAddress, svc.MetricsStates())
		if err != nil {
			ln.Close()
			return err
		}
		defer ms.Close()
		klog.Infof("podshim metrics on http://%s/metrics", ms.Addr())
	}
	// With the event stream wired: what happened while the daemon was
	// down is reported (held until a client subscribes), and the running
	// containers' exits are watched again.
	deps.Sandboxes.ReportStopped()
	deps.Containers.WatchExits()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	errs := make(chan error, 1)
	go func() { errs <- g.Serve(ln) }()
	klog.Infof("podshim %s serving the CRI on %s (root %s, state %s)", version, cfg.Listen, cfg.Root, cfg.State)
	go notifyReady(notifier, cfg.Listen)

	select {
	case err := <-errs:
		os.Remove(cfg.Listen)
		return fmt.Errorf("serve %s: %w", cfg.Listen, err)
	case sig := <-sigs:
		klog.Infof("podshim: %v received, shutting down", sig)
	}
	if err := notifier.Notify("STOPPING=1"); err != nil {
		klog.Warningf("podshim: %v", err)
	}
	svc.Close() // ends the event streams, which would hold a graceful stop
	stopGracefully(g, shutdownGrace)
	os.Remove(cfg.Listen)
	return nil
}

func storageHosts(in map[string]config.Host) map[string]storage.HostConfig {
	out := make(map[string]storage.HostConfig, len(in))
	for k, v := range in {
		out[k] = storage.HostConfig{Insecure: v.Insecure, CAFile: v.CAFile}
	}
	return out
}

// stopGracefully lets in-flight RPCs finish, but not for ever: a stuck pull
// must not keep the daemon from exiting.
func stopGracefully(g *grpc.Server, grace time.Duration) {
	done := make(chan struct{})
	go func() { g.GracefulStop(); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	select {
	case <-done:
	case <-ctx.Done():
		g.Stop()
	}
}

// listenUnix creates the CRI socket with mode 0660. A socket file left by a
// daemon that died is replaced; one that still answers is refused.
func listenUnix(path string) (net.Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("socket %s is in use by another process", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
	}
	// Create the socket with no permissions for others from the start, so
	// there is no window in which it is world-writable.
	old := syscall.Umask(0o117)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	return ln, nil
}
