// SPDX-License-Identifier: Apache-2.0

// Package network gives pod sandboxes their network: a pinned network
// namespace per pod and CNI ADD/CHECK/DEL of one network configuration, the
// way the kubelet expects a CRI runtime to do it.
//
// Every step that changes the host is recorded before it happens, so that a
// crash at any point leaves something the next start can finish or undo:
//
//	<StateDir>/netns/<podID>            bind mount pinning the pod's netns
//	<StateDir>/intents/<podID>.json     intent: pod, netns, the exact network
//	                                    config list used, state, result
//	<StateDir>/cni-cache/               libcni's cache (results for CHECK/DEL)
//	<StateDir>/host-local/<network>/    IP leases of the default network
//	<StateDir>/default-network.json     which conflist podshim wrote, by hash
//
// The intent is written (atomically, fsynced) before CNI ADD and removed only
// after a successful CNI DEL, so "no intent" means "nothing to undo". It keeps
// the whole config list used at ADD so that DEL frees what ADD took even if
// the operator changed the configuration in between.
package network
