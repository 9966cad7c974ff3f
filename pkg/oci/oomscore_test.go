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
	for _, c := range []struct {
		name, status, own string
		want              int
	}{
		{"CAP_SYS_RESOURCE: any score", allCaps, "0\n", -1000},
		{"CAP_SYS_RESOURCE with a score of its own", allCaps, "-500\n", -1000},
		{"no CAP_SYS_RESOURCE: own score", noSysResource, "0\n", 0},
		{"no CAP_SYS_RESOURCE, negative own score", noSysResource, "-999\n", -999},
		{"permitted only", permittedOnly, "100\n", 100},
		{"no CapEff line: own score", "Name:\tpodshim\n", "5\n", 5},
		{"unreadable score", noSysResource, "x", -1000},
	} {
		if got := oomScoreAdjFloor(c.status, c.own); got != c.want {
			t.Errorf("%s: floor %d, want %d", c.name, got, c.want)
		}
	}
}
