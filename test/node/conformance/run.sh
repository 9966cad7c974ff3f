#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs the upstream Kubernetes node conformance specs (the [NodeConformance]
# specs of k8s.io/kubernetes/test/e2e_node, without Serial, Slow and Flaky)
# against a podshim on temporary dirs, offline.
#
# e2e_node.test starts etcd, kube-apiserver (127.0.0.1:6443) and a namespace
# controller in-process and the kubelet next to it as a child; the kubelet
# talks to this podshim. Images come from the loopback test registry
# (test/cmd/test-registry --kube-bin), which podshim mirrors registry.k8s.io,
# gcr.io, k8s.gcr.io and docker.io to; every other registry host goes to a
# dead proxy on loopback, so a spec's invalid or unknown image fails to pull
# without a packet leaving the machine.
#
# The suite hard-codes the kubelet's healthz port 10248, its read-only port
# 10255 and the apiserver's 6443: those must be free. The kubelet's own API
# port is NODE_KUBELET_PORT. The kubelet refuses a loopback node IP, and the
# apiserver reaches the kubelet on the node IP, so the node IP is an address
# on a port-less bridge of its own (psnc-node, 10.199.0.1/32) that a nat
# OUTPUT rule sends to 127.0.0.1, where the kubelet listens.
#
# Environment:
#   BIN         podshim's binaries (podshim, runc, cni/, crictl, test-registry)
#   KUBE_BIN    build.sh OUT_DIR/bin: kubelet, e2e_node.test, ginkgo, agnhost, nnp
#   RESULTS     report dir (default test/node/conformance/results)
#   NODE_PROCS  parallel ginkgo processes (default 4)
#   NODE_FOCUS  optional ginkgo focus regexp (narrows the run: no ratchet check)
#   NODE_SKIP   optional ginkgo skip regexp (likewise)
#   NODE_TIMEOUT  ginkgo suite timeout (default 150m)
#   NODE_KUBELET_PORT  the kubelet's API port (default 10350)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
BIN=${BIN:-$top/bin}
KUBE_BIN=${KUBE_BIN:-$HOME/.cache/podshim/kubernetes-v1.37.2/bin}
RESULTS=${RESULTS:-$here/results}
NODE_PROCS=${NODE_PROCS:-4}
NODE_TIMEOUT=${NODE_TIMEOUT:-150m}
kubelet_port=${NODE_KUBELET_PORT:-10350}
labels='NodeConformance && !Serial && !Slow && !Flaky'

say() { echo "node-conformance: $*"; }
die() { echo "node-conformance: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
for f in "$BIN/podshim" "$BIN/runc" "$BIN/crictl" "$BIN/test-registry" \
         "$KUBE_BIN/kubelet" "$KUBE_BIN/e2e_node.test" "$KUBE_BIN/ginkgo" "$KUBE_BIN/agnhost" "$KUBE_BIN/nnp"; do
  [ -x "$f" ] || die "missing $f (make build tools; test/node/kubebuild/build.sh OUT_DIR e2e_node)"
done
for port in 6443 10248 10255 "$kubelet_port"; do
  if ss -Htln "sport = :$port" | grep -q .; then
    die "port $port is in use (the suite needs 6443, 10248 and 10255; another kubelet or apiserver?)"
  fi
done

rm -rf "$RESULTS"
mkdir -p "$RESULTS"
work=$(mktemp -d /tmp/podshim-nodeconf.XXXXXX)
# 0711: user-namespaced pods must be able to traverse to their files.
chmod 0711 "$work"
pids=()
sock="$work/state/podshim.sock"
bridge=psnc0
subnet=10.177.0.0/16  # not 10.197/16: make e2e gives each test a 10.197.N.0/24
node_link=psnc-node
node_ip=10.199.0.1
cgroup_root=/podshim-nodeconf
runtime_cgroup=/podshim-nodeconf-runtime
kubelet_cgroup=/podshim-nodeconf-kubelet
fence=(FORWARD -i "$bridge" ! -o "$bridge" -j DROP)
to_kubelet=(OUTPUT -d "$node_ip/32" -p tcp -j DNAT --to-destination 127.0.0.1)
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
suite_pid=

# v1 hierarchies this node has (the unified mount only holds hugetlb here).
hierarchies() {
  for d in /sys/fs/cgroup/*/; do
    d=${d%/}
    [ "$(basename "$d")" = unified ] && continue
    [ -e "$d/cgroup.procs" ] && echo "$d"
  done
}

# pids_under DIR: processes started from or pointing into DIR, found by
# their command line (the kubelet, runc, monitors): ours, by construction.
pids_under() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1" && echo "${p#/proc/}"
  done
  return 0
}

# cleanup must run every step even when one fails, so no `set -e` here.
cleanup() {
  set +e
  # The suite first (its kubelet would recreate what is removed), then the
  # kubelet if it outlived the suite.
  if [ -n "$suite_pid" ]; then
    kill -TERM -- "-$suite_pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$suite_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$suite_pid" 2>/dev/null
  fi
  for pid in $(pids_under "$work/kubelet"); do
    case "$(cat /proc/"$pid"/comm 2>/dev/null)" in kubelet) kill -TERM "$pid" 2>/dev/null ;; esac
  done
  sleep 1
  # Pods outlive the daemon by design: remove what is left while podshim
  # still runs, so their IPs, netns and mounts are freed.
  if [ -S "$sock" ]; then
    "$BIN/crictl" --runtime-endpoint "unix://$sock" rmp -fa >/dev/null 2>&1
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  for pid in $(pids_under "$work"); do kill -KILL "$pid" 2>/dev/null; done
  # Whatever is still in the pods' cgroups (which are this run's alone).
  for h in $(hierarchies); do
    [ -d "$h$cgroup_root" ] || continue
    find "$h$cgroup_root" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u | while read -r pid; do
      kill -KILL "$pid" 2>/dev/null
    done
  done
  # Volumes, netns pins, rootfs and shm mounts all live below $work.
  awk -v w="$work" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$work"
  # (runc also makes the pods' hugetlb cgroups in the unified mount.) A
  # cgroup whose last process is still exiting is busy for a moment.
  for _ in 1 2 3 4 5; do
    left=0
    for h in $(hierarchies) /sys/fs/cgroup/unified; do
      for c in "$cgroup_root" "$runtime_cgroup" "$kubelet_cgroup"; do
        [ -d "$h$c" ] || continue
        find "$h$c" -depth -type d -exec rmdir {} + 2>/dev/null
        [ -d "$h$c" ] && left=1
      done
    done
    [ "$left" = 0 ] && break
    sleep 1
  done
  iptables -D "${fence[@]}" 2>/dev/null
  iptables -t nat -D "${to_kubelet[@]}" 2>/dev/null
  ip link del "$bridge" 2>/dev/null
  ip link del "$node_link" 2>/dev/null
  echo "$forward_before" > /proc/sys/net/ipv4/ip_forward
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for CMD... : retry a readiness check for up to 60 s.
wait_for() {
  for _ in $(seq 1 600); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "timed out waiting for: $*"
}

"$BIN/test-registry" --listen 127.0.0.1:0 --ready-file "$work/registry.addr" --kube-bin "$KUBE_BIN" \
  >"$RESULTS/registry.log" 2>&1 &
pids+=($!)
wait_for test -s "$work/registry.addr"
addr=$(cat "$work/registry.addr")
say "test registry on $addr"

# Pods get their own bridge and subnet, fenced in: nothing from the pod
# bridge may be forwarded to any other interface.
iptables -I "${fence[@]}"
# The node's address, local to this machine, and the kubelet behind it.
ip link add "$node_link" type bridge
ip addr add "$node_ip/32" dev "$node_link"
ip link set "$node_link" up
iptables -t nat -I "${to_kubelet[@]}"

# test-handler: the RuntimeClass specs run pods under a handler of that
# name (and skip without one), as containerd's CI configures it: runc again.
cat >"$work/config.toml" <<TOML
cgroup_driver = "cgroupfs"
[runtimes.test-handler]
binary = "$BIN/runc"
[cni]
conf_dir = "$work/cni"
default_bridge = "$bridge"
default_subnet = "$subnet"
[registry.mirrors]
"registry.k8s.io" = ["http://$addr"]
"gcr.io" = ["http://$addr"]
"k8s.gcr.io" = ["http://$addr"]
"docker.io" = ["http://$addr"]
[registry.hosts."$addr"]
insecure = true
TOML

# podshim runs in a cgroup of its own in every hierarchy, which the kubelet
# is told is the runtime's (--runtime-cgroups) for its stats; the kubelet's
# cgroup root must exist before it starts.
for h in $(hierarchies); do
  for c in "$runtime_cgroup" "$cgroup_root"; do
    mkdir -p "$h$c"
    if [ -e "$h/cpuset.cpus" ]; then
      cat "$h/cpuset.cpus" >"$h$c/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h$c/cpuset.mems"
    fi
  done
done
# Registry hosts other than the mirrored ones go to a dead loopback proxy.
HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost \
  bash -c 'cg=$1; shift; for h in $cg; do echo $$ >"$h/cgroup.procs"; done; echo $$ >"'"$work"'/podshim.pid"; exec "$@"' \
  podshim-in-cgroup "$(hierarchies | sed "s|\$|$runtime_cgroup|" | tr '\n' ' ')" \
  "$BIN/podshim" --config "$work/config.toml" --root "$work/root" --state "$work/state" --listen "$sock" -v 2 \
  >"$RESULTS/podshim.log" 2>&1 &
pids+=($!)
wait_for "$BIN/crictl" --runtime-endpoint "unix://$sock" version
say "podshim on $sock"

# The base kubelet configuration; the suite adds its own overrides (ports,
# authentication, static pod path) and the flags below win over both.
echo "nameserver 127.0.0.1" >"$work/resolv.conf"
cat >"$work/kubelet-config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kubelet_port
healthzBindAddress: 127.0.0.1
healthzPort: 10248
cgroupDriver: cgroupfs
cgroupRoot: $cgroup_root
# This VM is cgroup v1 and has swap: both are refused by default.
failCgroupV1: false
failSwapOn: false
resolvConf: $work/resolv.conf
# Other kubelets on this machine garbage-collect the pod log directories
# of pods they do not know in the shared default, /var/log/pods.
podLogsDir: $work/pod-logs
# podshim's default network takes the pod CIDR the kubelet sends.
podCIDR: $subnet
serializeImagePulls: false
volumeStatsAggPeriod: 10s
fileCheckFrequency: 10s
evictionPressureTransitionPeriod: 30s
# The disk is shared with everything else on the machine.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
YAML

kubelet_flags=(
  "--root-dir=$work/kubelet"
  "--node-ip=$node_ip"
  "--runtime-cgroups=$runtime_cgroup"
  "--kubelet-cgroups=$kubelet_cgroup"
  # The suite's default moves every process of the root cgroup into
  # /system: not on a shared machine.
  "--system-cgroups="
)
suite_args=(
  "--container-runtime-endpoint=unix://$sock"
  "--image-service-endpoint=unix://$sock"
  "--container-runtime-process-name=podshim"
  "--container-runtime-pid-file=$work/podshim.pid"
  "--prepull-images=false"
  "--kubelet-config-file=$work/kubelet-config.yaml"
  "--kubelet-flags=${kubelet_flags[*]}"
  "--report-dir=$RESULTS"
)
ginkgo_args=(
  "--procs=$NODE_PROCS" "--timeout=$NODE_TIMEOUT" "--no-color" "-v"
  "--label-filter=$labels"
  "--junit-report=junit.xml" "--output-dir=$RESULTS"
)
[ -n "${NODE_FOCUS:-}" ] && ginkgo_args+=("--focus=$NODE_FOCUS")
[ -n "${NODE_SKIP:-}" ] && ginkgo_args+=("--skip=$NODE_SKIP")

# The suite runs the kubelet under systemd-run when it finds one on PATH;
# this machine has the command but no systemd, so the suite gets a PATH of
# links to everything else.
mkdir "$work/path"
IFS=: read -ra path_dirs <<<"$PATH"
for d in "${path_dirs[@]}"; do
  for f in "$d"/*; do
    n=$(basename "$f")
    [ "$n" = systemd-run ] || [ -e "$work/path/$n" ] || [ ! -x "$f" ] || ln -s "$f" "$work/path/$n"
  done
done

start=$(date +%s)
mkdir -m 0711 "$work/suite" "$work/tmp"
# ginkgo runs a compiled suite in the binary's directory, where the suite
# writes its kubeconfig, kubelet config and token file: links in $work/suite
# keep them out of KUBE_BIN (the suite looks for the kubelet beside itself).
ln -s "$KUBE_BIN/e2e_node.test" "$KUBE_BIN/kubelet" "$work/suite/"
set +e
# Its own process group, so cleanup can end the suite and everything it
# started even when interrupted.
( cd "$work/suite" && PATH="$work/path" TMPDIR="$work/tmp" exec setsid "$KUBE_BIN/ginkgo" "${ginkgo_args[@]}" \
    "$work/suite/e2e_node.test" -- "${suite_args[@]}" ) >"$RESULTS/e2e_node.log" 2>&1 &
suite_pid=$!
wait "$suite_pid"
suite_rc=$?
suite_pid=
set -e
say "e2e_node.test exited $suite_rc after $(( $(date +%s) - start )) s (log: $RESULTS/e2e_node.log)"

[ -s "$RESULTS/junit.xml" ] || die "no JUnit report in $RESULTS"
grep -q '<testcase' "$RESULTS/junit.xml" || die "the suite ran no spec (see $RESULTS/e2e_node.log)"
# A focused or narrowed run skips specs on purpose: check the expected-pass
# list only on a full run.
expected=(-expected "$here/expected-pass.txt")
[ -n "${NODE_FOCUS:-}${NODE_SKIP:-}" ] && expected=()
go run "$top/test/conformance/summarize" -name node-conformance -junit "$RESULTS/junit.xml" "${expected[@]}"
# A narrowed run has no list to check: the suite's own verdict stands.
[ ${#expected[@]} -gt 0 ] || exit "$suite_rc"
