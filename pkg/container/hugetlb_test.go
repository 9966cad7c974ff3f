// SPDX-License-Identifier: Apache-2.0

package container

import (
	"strings"
	"testing"
)

func TestV1HugetlbMounted(t *testing.T) {
	hybridWithoutV1Hugetlb := `25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/memory rw,relatime shared:5 - cgroup cgroup rw,memory
28 25 0:25 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
`
	if v1HugetlbMounted(strings.NewReader(hybridWithoutV1Hugetlb)) {
		t.Error("hugetlb only in the v2 side mount must not count for runc's v1 hierarchy")
	}
	withV1Hugetlb := hybridWithoutV1Hugetlb + "29 25 0:26 / /sys/fs/cgroup/hugetlb rw,relatime shared:9 - cgroup cgroup rw,hugetlb\n"
	if !v1HugetlbMounted(strings.NewReader(withV1Hugetlb)) {
		t.Error("a v1 hugetlb mount was not found")
	}
}
