// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"slices"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func without(list []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(list), func(s string) bool { return slices.Contains(drop, s) })
}

func TestCapabilities(t *testing.T) {
	def := DefaultCapabilities()
	for _, c := range []struct {
		name              string
		caps              *runtimeapi.Capability
		want, wantAmbient []string
	}{
		{"defaults", nil, def, nil},
		{"add and drop, any spelling", &runtimeapi.Capability{
			AddCapabilities:  []string{"net_admin", "CAP_SYS_PTRACE"},
			DropCapabilities: []string{"mknod", "CAP_NET_RAW"},
		}, append(without(def, "CAP_MKNOD", "CAP_NET_RAW"), "CAP_NET_ADMIN", "CAP_SYS_PTRACE"), nil},
		{"add ALL then drop one", &runtimeapi.Capability{
			AddCapabilities: []string{"ALL"}, DropCapabilities: []string{"CHOWN"},
		}, without(KnownCapabilities(), "CAP_CHOWN"), nil},
		{"drop ALL then add one", &runtimeapi.Capability{
			AddCapabilities: []string{"NET_BIND_SERVICE"}, DropCapabilities: []string{"all"},
		}, []string{"CAP_NET_BIND_SERVICE"}, nil},
		{"drop ALL", &runtimeapi.Capability{DropCapabilities: []string{"ALL"}}, nil, nil},
		{"ambient", &runtimeapi.Capability{
			DropCapabilities: []string{"ALL"}, AddAmbientCapabilities: []string{"NET_BIND_SERVICE"},
		}, []string{"CAP_NET_BIND_SERVICE"}, []string{"CAP_NET_BIND_SERVICE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := testInput()
			secCtx(&in).Capabilities = c.caps
			got := mustSpec(t, in).Process.Capabilities
			for name, set := range map[string][]string{"bounding": got.Bounding, "effective": got.Effective, "permitted": got.Permitted} {
				if !sameSet(set, c.want) {
					t.Errorf("%s %v, want %v", name, set, c.want)
				}
			}
			if !sameSet(got.Ambient, c.wantAmbient) || !sameSet(got.Inheritable, c.wantAmbient) {
				t.Errorf("ambient %v inheritable %v, want %v", got.Ambient, got.Inheritable, c.wantAmbient)
			}
		})
	}
	in := testInput()
	secCtx(&in).Capabilities = &runtimeapi.Capability{AddCapabilities: []string{"NET ADMIN"}}
	wantErr(t, in, ErrInvalid, "NET ADMIN")
}

func TestCapabilitiesFromFeatures(t *testing.T) {
	in := testInput()
	in.Features.Capabilities = []string{"CAP_CHOWN", "CAP_KILL"}
	secCtx(&in).Capabilities = &runtimeapi.Capability{AddCapabilities: []string{"ALL"}}
	if got := mustSpec(t, in).Process.Capabilities.Bounding; !sameSet(got, in.Features.Capabilities) {
		t.Errorf("ALL should be what the node can give: %v", got)
	}
}
