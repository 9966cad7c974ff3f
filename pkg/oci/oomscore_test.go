// SPDX-License-Identifier: Apache-2.0

package oci

import "testing"

func TestOOMScoreAdjFloor(t *testing.T) {
	const (
		allCaps       = "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
		noSysResource = "CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"
		// Permitted but not effective does not let the daemon lower scores.
		permittedOnly = "CapPrm:\t000001ffffffffff\nCapEff:\t000001fffeffffff\n"
	)
	const (
		initialNS = "         0          0 4294967295\n"
		rootless  = "         0       1000          1\n         1     100000      65536\n"
	)
	for _, c := range []struct {
		name, status, own string
		uidMap            string
		want              int
	}{
		{"CAP_SYS_RESOURCE: any score", allCaps, "0\n", initialNS, -1000},
		{"CAP_SYS_RESOURCE in a user namespace: own score", allCaps, "0\n", rootless, 0},
		{"CAP_SYS_RESOURCE with a score of its own", allCaps, "-500\n", initialNS, -1000},
		{"no CAP_SYS_RESOURCE: own score", noSysResource, "0\n", initialNS, 0},
		{"no CAP_SYS_RESOURCE, negative own score", noSysResource, "-999\n", initialNS, -999},
		{"permitted only", permittedOnly, "100\n", initialNS, 100},
		{"no CapEff line: own score", "Name:\tpodshim\n", "5\n", initialNS, 5},
		{"unreadable score", noSysResource, "x", initialNS, -1000},
	} {
		if got := oomScoreAdjFloor(c.status, c.own, c.uidMap); got != c.want {
			t.Errorf("%s: floor %d, want %d", c.name, got, c.want)
		}
	}
}
