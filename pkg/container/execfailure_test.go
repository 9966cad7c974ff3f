// SPDX-License-Identifier: Apache-2.0

package container

import (
	"errors"
	"testing"
)

func TestIsExecFailure(t *testing.T) {
	const prefix = "monitor create: create 9f1a: runc exited with status 1: runc create failed: unable to start container process: "
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{prefix + `error during container init: exec: "/no/such/command": stat /no/such/command: no such file or directory`, true},
		{prefix + `error during container init: exec: "nope": executable file not found in $PATH`, true},
		{prefix + `error during container init: exec: "/etc/passwd": permission denied`, true},
		{prefix + `error during container init: exec /bin/app: exec format error`, true},
		// Failures before the exec stay CreateContainer errors.
		{prefix + `error during container init: error mounting "/x" to rootfs at "/y": no such file or directory`, false},
		{prefix + `error during container init: write sysctl key net.ipv4.foo: open /proc/sys/net/ipv4/foo: no such file or directory`, false},
		{"monitor create: connection closed", false},
		// crun's words for the same failures.
		{"create 7c5b: runc exited with status 1: executable file `/no/such/command` not found in $PATH: No such file or directory", true},
		{"create 7c5b: runc exited with status 1: exec container process `/bin/app`: Exec format error", true},
		{"create 7c5b: runc exited with status 1: exec container process (missing dynamic library?) `/bin/app`: No such file or directory", true},
		{"create 7c5b: runc exited with status 1: open executable: Permission denied", true},
		{"create 7c5b: runc exited with status 1: mount `/x` to `/y`: No such file or directory", false},
	} {
		if got := isExecFailure(errors.New(c.msg)); got != c.want {
			t.Errorf("isExecFailure(%q) = %v, want %v", c.msg, got, c.want)
		}
	}
	if isExecFailure(nil) {
		t.Error("isExecFailure(nil) = true")
	}
}
