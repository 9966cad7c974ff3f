#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# crun-hybrid runs Debian's crun on a hybrid cgroup host (cgroup v1
# controllers plus a v2 side mount at /sys/fs/cgroup/unified) whose side
# mount has controllers enabled: crun refuses every container there ("cgroups
# in hybrid mode not supported, drop all controllers from cgroupv2"). It runs
# crun in its own mount namespace without the side mount, so crun manages
# the v1 controllers as on a legacy host; the host's mounts are untouched.
#
# The namespace keeps the host's propagation (--propagation unchanged), or
# mounts made on the host after a container started would never reach it
# (CRI's HostToContainer and Bidirectional mounts). Only the cgroup tree is
# made private in it first, so that the unmount stays in the namespace; the
# unmount is skipped if that fails.
# unshare and sh exec, so the caller's child is crun itself (a monitor
# reaping it sees crun's own exit status). `make tools` installs it beside
# podshim, which uses it for the built-in crun handler on such hosts.
exec unshare --mount --propagation unchanged -- /bin/sh -c \
  'mount --make-rprivate /sys/fs/cgroup 2>/dev/null && umount -l /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun "$@"' crun "$@"
