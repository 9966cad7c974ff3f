// SPDX-License-Identifier: Apache-2.0

// Command nonewprivs is podshim's offline stand-in for the program in the
// e2e-test-images/nonewprivs image. The image installs it setuid root, so
// its effective uid shows whether the runtime let the setuid bit take effect:
// critest's NoNewPrivs specs run it as uid 1000 and expect "Effective uid: 0"
// without no_new_privs and "Effective uid: 1000" with it.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Printf("Effective uid: %d\n", os.Geteuid())
}
