// SPDX-License-Identifier: Apache-2.0

// Command test-registry serves every image critest v1.37.0 pulls from an
// in-memory registry over plain HTTP, for `make conformance`. The runtime
// under test mirrors registry.k8s.io, gcr.io, k8s.gcr.io, docker.io and
// public.ecr.aws to it. With --kube-bin it also serves the images of the
// Kubernetes node conformance specs (`make node-conformance`), made with
// the agnhost and nnp programs found in that directory.
//
//	test-registry --listen 127.0.0.1:5000 [--ready-file PATH] [--kube-bin DIR]
//
// The ready file, written once every image is pushed and served, holds the
// actual listen address (useful with port 0). The server runs until SIGTERM
// or SIGINT, then removes the ready file.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/podshim/podshim/test/images"
	"github.com/podshim/podshim/test/registry"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:5000", "address to serve the registry on (plain HTTP)")
	readyFile := flag.String("ready-file", "", "file to write the listen address to once everything is served")
	verbose := flag.Bool("v", false, "log every registry request")
	kubeBin := flag.String("kube-bin", "", "also serve the node conformance images, built with agnhost and nnp from this directory")
	flag.Parse()
	log.SetFlags(log.LstdFlags)
	log.SetPrefix("test-registry: ")
	if err := run(*listen, *readyFile, *kubeBin, *verbose); err != nil {
		log.Fatal(err)
	}
}

func run(listen, readyFile, kubeBin string, verbose bool) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	set, err := images.CRITestSet()
	if err != nil {
		return fmt.Errorf("build images: %w", err)
	}
	if kubeBin != "" {
		node, err := images.NodeSet(kubeBin)
		if err != nil {
			return fmt.Errorf("build node images: %w", err)
		}
		set = append(set, node...)
	}
	opts := registry.Options{Addr: listen}
	if verbose {
		opts.Log = os.Stderr
	}
	srv, err := registry.Start(opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Push(set); err != nil {
		return err
	}
	for _, e := range set {
		d, err := e.Digest()
		if err != nil {
			return err
		}
		for _, tag := range e.Tags {
			log.Printf("serving %s:%s %s", e.Repo, tag, d)
		}
	}
	if readyFile != "" {
		if err := writeReady(readyFile, srv.Addr); err != nil {
			return err
		}
		defer os.Remove(readyFile)
	}
	log.Printf("ready on %s", srv.URL())
	<-ctx.Done()
	log.Printf("stopping")
	return nil
}

// writeReady writes addr atomically, so a watcher never reads a partial
// file.
func writeReady(path, addr string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".ready-*")
	if err != nil {
		return fmt.Errorf("create ready file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.WriteString(addr + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write ready file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("ready file mode: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("publish ready file: %w", err)
	}
	return nil
}
