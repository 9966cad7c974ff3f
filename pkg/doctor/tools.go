// SPDX-License-Identifier: Apache-2.0

package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/podshim/podshim/network"
)

// toolTimeout bounds every command doctor runs: a hung binary must not
// hang the report.
const toolTimeout = 10 * time.Second

func run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out)), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// runcFeatures is the part of `runc features` (runc 1.1+) doctor reads.
type runcFeatures struct {
	Linux struct {
		Seccomp *struct {
			Enabled *bool `json:"enabled"`
		} `json:"seccomp"`
		MountExtensions *struct {
			IDMap *struct {
				Enabled *bool `json:"enabled"`
			} `json:"idmap"`
		} `json:"mountExtensions"`
	} `json:"linux"`
}

func checkRunc(path, notFound string) []Result {
	r := Result{Check: "runc", Required: true, TurnsOff: "every pod: podshim runs containers with runc"}
	if path == "" {
		r.Status, r.Detail = Missing, notFound
		return []Result{r}
	}
	out, err := run(path, "--version")
	if err != nil {
		r.Status, r.Detail = Missing, err.Error()
		return []Result{r}
	}
	// "runc version 1.5.2\nspec: 1.3.0\ngo: go1.26.8\nlibseccomp: 2.5.4"
	r.Status, r.Detail = OK, path+": "+strings.ReplaceAll(out, "\n", ", ")
	sec := Result{Check: "runc seccomp", TurnsOff: "seccomp profiles: containers given RuntimeDefault or Localhost profiles fail to start"}
	fout, err := run(path, "features")
	var f runcFeatures
	if err == nil {
		err = json.Unmarshal([]byte(fout), &f)
	}
	switch {
	case err != nil:
		sec.Status, sec.Detail = Unknown, "runc features: "+err.Error()
	case f.Linux.Seccomp != nil && f.Linux.Seccomp.Enabled != nil && *f.Linux.Seccomp.Enabled:
		sec.Status, sec.Detail = OK, "built with libseccomp"
	default:
		sec.Status, sec.Detail = Missing, "runc was built without libseccomp (make tools builds it with)"
	}
	idm := Result{Check: "runc idmapped mounts", TurnsOff: "pods with hostUsers: false"}
	switch {
	case err != nil:
		idm.Status, idm.Detail = Unknown, "runc features: "+err.Error()
	case f.Linux.MountExtensions != nil && f.Linux.MountExtensions.IDMap != nil &&
		f.Linux.MountExtensions.IDMap.Enabled != nil && *f.Linux.MountExtensions.IDMap.Enabled:
		idm.Status, idm.Detail = OK, "supported (runc features)"
	default:
		idm.Status, idm.Detail = Missing, "runc does not support idmapped mounts (runc 1.2+ on Linux 5.12+)"
	}
	return []Result{r, sec, idm}
}

func checkBinary(name, path, notFound string, required bool, turnsOff string) Result {
	r := Result{Check: name, Required: required, TurnsOff: turnsOff}
	if path == "" {
		r.Status, r.Detail = Missing, notFound
		return r
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		r.Status, r.Detail = Missing, err.Error()
	case st.Mode()&0o111 == 0 || st.IsDir():
		r.Status, r.Detail = Missing, path+" is not an executable file"
	default:
		r.Status, r.Detail = OK, path
	}
	return r
}

func checkCNI(confDir string, binDirs []string) Result {
	r := Result{Check: "CNI network", Required: true,
		TurnsOff: "every pod not on the host network: the kubelet sees NetworkReady=false"}
	info, err := network.Inspect(confDir, binDirs)
	if err != nil {
		r.Status, r.Detail = Missing, err.Error()
		return r
	}
	where := info.File
	if where == "" {
		where = "none in " + confDir + "; podshim writes its default network there on start"
	}
	r.Status = OK
	r.Detail = fmt.Sprintf("network %q (%s), plugins %s found in %s", info.Name, where,
		strings.Join(info.Plugins, " "), strings.Join(binDirs, ":"))
	return r
}

func checkIptables() Result {
	r := Result{Check: "iptables",
		TurnsOff: "hostPort mappings (portmap) and the default network's masquerade of pods' outbound traffic"}
	path, err := exec.LookPath("iptables")
	if err != nil {
		r.Status, r.Detail = Missing, "iptables not in $PATH"
		return r
	}
	out, err := run(path, "--version")
	if err != nil {
		r.Status, r.Detail = Missing, err.Error()
		return r
	}
	// Reading the nat table proves the kernel side works, not just the binary.
	if os.Geteuid() == 0 {
		if _, err := run(path, "-w", "5", "-t", "nat", "-S", "POSTROUTING"); err != nil {
			r.Status, r.Detail = Missing, out+": "+err.Error()
			return r
		}
	}
	r.Status, r.Detail = OK, out
	return r
}

func checkCRIU() Result {
	r := Result{Check: "CRIU", TurnsOff: "container checkpoint/restore (runc needs CRIU for it)"}
	path, err := exec.LookPath("criu")
	if err != nil {
		r.Status, r.Detail = Missing, "criu not in $PATH"
		return r
	}
	out, err := run(path, "--version")
	if err != nil {
		r.Status, r.Detail = Missing, err.Error()
		return r
	}
	r.Status, r.Detail = OK, path+": "+strings.ReplaceAll(out, "\n", ", ")
	return r
}
