#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Runs critest against a podshim on temporary root/state dirs. Images come
# from a loopback registry (test/cmd/test-registry) that podshim is told to
# use as a mirror of every public registry critest names; critest itself is
# run without --registry-prefix, which drops tags in v1.37.
#
# critest runs once per runtime handler in HANDLERS (default "runc crun";
# crun only when /usr/bin/crun is installed): the default handler without
# --runtime-handler, every other with it, each pass with its own report
# (junit.xml for the first, junit-<handler>.xml for the others) judged
# against the same expected-pass list.
#
# Environment: BIN (built binaries), CRITEST_FOCUS / CRITEST_SKIP (optional
# ginkgo regexps, every pass), RESULTS (report dir, default
# test/conformance/results), HANDLERS, CONF_BRIDGE / CONF_SUBNET (the pod
# network, default psconf0 / 10.198.0.0/16, so two runs can share a machine).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BIN=${BIN:-$top/bin}
RESULTS=${RESULTS:-$here/results}
mkdir -p "$RESULTS"

work=$(mktemp -d /tmp/podshim-conformance.XXXXXX)
# 0711: user-namespaced pods must be able to traverse to their files.
chmod 0711 "$work"
pids=()
sock="$work/state/podshim.sock"
bridge=${CONF_BRIDGE:-psconf0}
subnet=${CONF_SUBNET:-10.198.0.0/16}
if [ -z "${HANDLERS:-}" ]; then
  HANDLERS=runc
  [ -x /usr/bin/crun ] && HANDLERS="runc crun"
fi
fence=(FORWARD -i "$bridge" ! -o "$bridge" -j DROP)
# The bridge plugin turns IP forwarding on; the node gets back what it had.
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
# cleanup must run every step even when one fails, so no `set -e` here.
cleanup() {
  set +e
  # Pods outlive the daemon by design: remove what failed specs left
  # while podshim still runs, so their IPs, netns and mounts are freed.
  if [ -S "$sock" ]; then
    "$BIN/crictl" --runtime-endpoint "unix://$sock" rmp -fa >/dev/null 2>&1
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  # Failed specs can leave bind mounts below critest's temp dirs (TMPDIR
  # points into $work): unmount everything below $work, deepest first.
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf "$work"
  iptables -D "${fence[@]}" 2>/dev/null
  ip link del "$bridge" 2>/dev/null
  echo "$forward_before" > /proc/sys/net/ipv4/ip_forward
}
trap cleanup EXIT

# wait_for CMD... : retry a readiness check for up to 60 s.
wait_for() {
  for _ in $(seq 1 600); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "conformance: timed out waiting for: $*" >&2
  return 1
}

"$BIN/test-registry" --listen 127.0.0.1:0 --ready-file "$work/registry.addr" >"$RESULTS/registry.log" 2>&1 &
pids+=($!)
wait_for test -s "$work/registry.addr"
addr=$(cat "$work/registry.addr")
echo "conformance: test registry on $addr"

# Pods get their own bridge and subnet, fenced in: nothing from the pod
# bridge may be forwarded to any other interface.
iptables -I "${fence[@]}"

cat >"$work/config.toml" <<TOML
[cni]
conf_dir = "$work/cni"
default_bridge = "$bridge"
default_subnet = "$subnet"
[registry.mirrors]
"registry.k8s.io" = ["http://$addr"]
"gcr.io" = ["http://$addr"]
"k8s.gcr.io" = ["http://$addr"]
"docker.io" = ["http://$addr"]
"public.ecr.aws" = ["http://$addr"]
[registry.hosts."$addr"]
insecure = true
# critest's NRI specs connect their own plugins here. They hold a plugin's
# first synchronisation open for two seconds on purpose, the library's
# default bound on any answer: this run allows ten.
[nri]
enable = true
socket_path = "$work/nri.sock"
plugin_path = "$work/nri-plugins"
plugin_config_path = "$work/nri-conf.d"
plugin_request_timeout = "10s"
TOML

"$BIN/podshim" --config "$work/config.toml" --root "$work/root" --state "$work/state" --listen "$sock" -v 2 \
  >"$RESULTS/podshim.log" 2>&1 &
pids+=($!)
wait_for "$BIN/crictl" --runtime-endpoint "unix://$sock" version
echo "conformance: podshim on $sock"

# A focused or narrowed run skips specs on purpose: check the expected-pass
# list only on a full run.
expected=(-expected "$here/expected-pass.txt")
[ -n "${CRITEST_FOCUS:-}${CRITEST_SKIP:-}" ] && expected=()
mkdir -m 0711 "$work/tmp"
failed=0
first=1
for handler in $HANDLERS; do
  report=junit-$handler.xml log=critest-$handler.log
  [ "$first" = 1 ] && report=junit.xml log=critest.log
  args=(--runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" --nri-socket "$work/nri.sock"
        --ginkgo.junit-report "$RESULTS/$report" --ginkgo.no-color)
  # The default handler is what pods get with no runtime_handler at all.
  [ "$handler" = runc ] || args+=(--runtime-handler "$handler")
  [ -n "${CRITEST_FOCUS:-}" ] && args+=(--ginkgo.focus "$CRITEST_FOCUS")
  [ -n "${CRITEST_SKIP:-}" ] && args+=(--ginkgo.skip "$CRITEST_SKIP")

  start=$(date +%s)
  set +e
  ( cd "$work" && TMPDIR="$work/tmp" "$BIN/critest" "${args[@]}" ) >"$RESULTS/$log" 2>&1
  critest_rc=$?
  set -e
  echo "conformance: handler $handler: critest exited $critest_rc after $(( $(date +%s) - start )) s (log: $RESULTS/$log)"
  # A handler may excuse expected-pass specs it cannot pass, each with its
  # reason, in expected-not-<handler>.txt.
  judge=("${expected[@]}")
  if [ ${#expected[@]} -gt 0 ] && [ -f "$here/expected-not-$handler.txt" ]; then
    judge+=(-except "$here/expected-not-$handler.txt")
  fi
  # Failed specs make critest exit non-zero, and the summary below judges
  # those against the expected-pass list. A non-zero exit with no failed
  # spec in the report means critest itself broke off: that is a failure too.
  if [ "$critest_rc" -ne 0 ] && ! grep -q '<failure' "$RESULTS/$report" 2>/dev/null; then
    echo "conformance: handler $handler: critest exited $critest_rc without a failed spec in its report: it did not finish" >&2
    failed=1
  elif ! go run "$top/test/conformance/summarize" -name "critest ($handler)" -junit "$RESULTS/$report" "${judge[@]}"; then
    failed=1
  fi
  # What failed specs left must not be seen by the next pass.
  "$BIN/crictl" --runtime-endpoint "unix://$sock" rmp -fa >/dev/null 2>&1 || true
  first=0
done
exit $failed
