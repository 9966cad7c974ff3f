// SPDX-License-Identifier: Apache-2.0

package container

import "testing"

func TestCgroupDir(t *testing.T) {
	for _, tc := range []struct{ driver, in, want string }{
		{"cgroupfs", "/kubepods/burstable/pod1/podshim-abc", "/kubepods/burstable/pod1/podshim-abc"},
		{"systemd", "kubepods-burstable-pod1.slice:podshim:abc", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/podshim-abc.scope"},
		{"systemd", "-.slice:podshim:abc", "/podshim-abc.scope"},
		{"systemd", ":podshim:abc", "/system.slice/podshim-abc.scope"},
		{"systemd", "kubepods.slice:podshim:kubepods-pod2.slice", "/kubepods.slice/kubepods-pod2.slice"},
	} {
		got, err := cgroupDir(tc.driver, tc.in)
		if err != nil || got != tc.want {
			t.Errorf("cgroupDir(%s, %q) = %q, %v; want %q", tc.driver, tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"podshim:abc", "a--b.slice:p:n", "notaslice:p:n", "a/b.slice:p:n"} {
		if _, err := cgroupDir("systemd", bad); err == nil {
			t.Errorf("cgroupDir(systemd, %q) accepted", bad)
		}
	}
}
