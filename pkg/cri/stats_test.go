// SPDX-License-Identifier: Apache-2.0

package cri

import (
	"context"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podshim/podshim/network"
	"github.com/podshim/podshim/pkg/container"
)

// Available bytes exist only under a limit, and never wrap below zero.
func TestMemoryUsageAvailable(t *testing.T) {
	if m := memoryUsage(1, 100, 150, 50, 0, 0, 0); m.AvailableBytes != nil {
		t.Fatalf("no limit, yet available %v", m.AvailableBytes)
	}
	if m := memoryUsage(1, 100, 150, 50, 0, 0, 1000); m.GetAvailableBytes().GetValue() != 900 {
		t.Fatalf("available %v, want 900", m.AvailableBytes)
	}
	if m := memoryUsage(1, 2000, 2000, 50, 0, 0, 1000); m.AvailableBytes == nil || m.AvailableBytes.Value != 0 {
		t.Fatalf("over the limit: available %v, want 0", m.AvailableBytes)
	}
}

func TestCPURates(t *testing.T) {
	var c cpuRates
	t0 := time.Unix(1000, 0)
	if _, ok := c.sample("p", t0, 1e9); ok {
		t.Fatal("a rate from one sample")
	}
	// Half a core over two seconds.
	if r, ok := c.sample("p", t0.Add(2*time.Second), 2e9); !ok || r != 5e8 {
		t.Fatalf("rate %d %v, want 5e8", r, ok)
	}
	// A call right after keeps the last rate rather than a noisy one.
	if r, ok := c.sample("p", t0.Add(2*time.Second+time.Millisecond), 2e9+9e6); !ok || r != 5e8 {
		t.Fatalf("rate %d %v, want the last 5e8", r, ok)
	}
	// A recreated cgroup (usage went down) starts over.
	if _, ok := c.sample("p", t0.Add(5*time.Second), 10); ok {
		t.Fatal("a rate across a reset")
	}
	c.keepOnly(map[string]bool{})
	if len(c.samples) != 0 {
		t.Fatalf("gone pods kept: %v", c.samples)
	}
}

// The kubelet reads the default interface whenever a network is reported.
func TestNetworkUsageDefaultInterface(t *testing.T) {
	n := networkUsage(5, []network.IfaceStats{{Name: "net1", RxBytes: 1}, {Name: network.DefaultInterface, RxBytes: 7, TxErrors: 2}})
	if n.GetDefaultInterface().GetName() != "eth0" || n.DefaultInterface.RxBytes.Value != 7 || n.DefaultInterface.TxErrors.Value != 2 {
		t.Fatalf("default interface %+v", n.DefaultInterface)
	}
	if len(n.Interfaces) != 2 {
		t.Fatalf("%d interfaces, want 2", len(n.Interfaces))
	}
}

// Every metric is described once, and every metric built carries one
// value per label its descriptor names (the kubelet drops it otherwise).
func TestMetricDescriptorsMatchMetrics(t *testing.T) {
	resp, err := (&Service{}).ListMetricDescriptors(context.Background(), &runtimeapi.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, d := range resp.Descriptors {
		if _, dup := keys[d.Name]; dup {
			t.Fatalf("%s described twice", d.Name)
		}
		keys[d.Name] = len(d.LabelKeys)
	}
	set := metricSet{base: []string{"c", "id", "img", "name", "ns", "pod"}}
	addInterface(&set, network.IfaceStats{Name: "eth0", RxBytes: 3})
	set.add(mFsUsage, 1, "/dev/sda1")
	addDetail(&set, container.Usage{}, container.CgroupDetail{MemoryFailcnt: container.Optional{Value: 1, Ok: true},
		IO: []container.BlockIO{{Major: 8, ReadBytes: 5}}})
	set.add(mCPUUsage, seconds(2500*uint64(time.Millisecond)))
	for _, m := range set.out {
		n, ok := keys[m.Name]
		if !ok || n != len(m.LabelValues) {
			t.Errorf("%s: %d label values, descriptor has %d (described: %v)", m.Name, len(m.LabelValues), n, ok)
		}
	}
	if last := set.out[len(set.out)-1]; last.Value.Value != 2 {
		t.Errorf("2.5 s of CPU reported as %d", last.Value.Value)
	}
}

func TestSendBatches(t *testing.T) {
	items := make([]int, 2*streamBatch+1)
	var got []int
	sends := 0
	if err := sendBatches(items, func(b []int) error { sends++; got = append(got, b...); return nil }); err != nil {
		t.Fatal(err)
	}
	if sends != 3 || len(got) != len(items) {
		t.Fatalf("%d sends of %d items, want 3 of %d", sends, len(got), len(items))
	}
}
