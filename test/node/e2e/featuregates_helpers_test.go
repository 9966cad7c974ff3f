// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// featureGates parses "Name=true,Other=false", as the kubelet's
// --feature-gates flag spells them; a malformed entry stops the run.
func featureGates(spec string) map[string]bool {
	gates := map[string]bool{}
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		name, val, ok := strings.Cut(kv, "=")
		on, err := strconv.ParseBool(val)
		if !ok || err != nil || name == "" {
			fmt.Fprintf(os.Stderr, "node e2e: NODE_E2E_FEATURE_GATES: %q is not Name=true|false\n", kv)
			os.Exit(2)
		}
		gates[name] = on
	}
	return gates
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}
