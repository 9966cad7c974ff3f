// SPDX-License-Identifier: Apache-2.0

package oci

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// maxID is the highest UID or GID runc accepts.
const maxID = math.MaxInt32

// userDB is the image's /etc/passwd and /etc/group.
type userDB struct {
	users  []user.User
	groups []user.Group
}

func parseUserDB(passwd, group []byte) (userDB, error) {
	var db userDB
	var err error
	if db.users, err = user.ParsePasswd(bytes.NewReader(passwd)); err != nil {
		return db, invalidf("the image's /etc/passwd: %v", err)
	}
	if db.groups, err = user.ParseGroup(bytes.NewReader(group)); err != nil {
		return db, invalidf("the image's /etc/group: %v", err)
	}
	return db, nil
}

func (db userDB) userByName(name string) (user.User, bool) {
	for _, u := range db.users {
		if u.Name == name {
			return u, true
		}
	}
	return user.User{}, false
}

func (db userDB) userByUID(uid uint32) (user.User, bool) {
	for _, u := range db.users {
		if u.Uid == int(uid) {
			return u, true
		}
	}
	return user.User{}, false
}

func (db userDB) groupByName(name string) (user.Group, bool) {
	for _, g := range db.groups {
		if g.Name == name {
			return g, true
		}
	}
	return user.Group{}, false
}

// memberOf returns the GIDs of the groups listing name as a member.
func (db userDB) memberOf(name string) []uint32 {
	var gids []uint32
	for _, g := range db.groups {
		if slices.Contains(g.List, name) && g.Gid >= 0 && g.Gid <= maxID {
			gids = append(gids, uint32(g.Gid))
		}
	}
	return gids
}

// withUser resolves the process's UID, GID and supplementary groups.
//
// The user is, first match wins: run_as_username (looked up in the image's
// /etc/passwd, and it must be there), run_as_user (its primary group from
// /etc/passwd when listed there, else 0), the image's USER. run_as_group
// then replaces the primary group. The supplementary groups are the
// primary GID, the CRI's supplemental_groups and, with the Merge policy
// (the default), the image's groups that list the user by name.
func withUser(s *specs.Spec, in *ContainerInput) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	db, err := parseUserDB(in.Passwd, in.Group)
	if err != nil {
		return err
	}
	var uid, gid uint32
	var name string
	switch {
	case sc.GetRunAsUsername() != "":
		if sc.GetRunAsUser() != nil {
			return invalidf("run_as_user and run_as_username are both set; only one may be")
		}
		u, ok := db.userByName(sc.GetRunAsUsername())
		if !ok {
			return invalidf("user %q not found in the image's /etc/passwd", sc.GetRunAsUsername())
		}
		if uid, err = checkID("uid", int64(u.Uid)); err != nil {
			return err
		}
		if gid, err = checkID("gid", int64(u.Gid)); err != nil {
			return err
		}
		name = u.Name
	case sc.GetRunAsUser() != nil:
		if uid, err = checkID("run_as_user", sc.GetRunAsUser().GetValue()); err != nil {
			return err
		}
		if u, ok := db.userByUID(uid); ok {
			name = u.Name
			if gid, err = checkID("gid", int64(u.Gid)); err != nil {
				return err
			}
		}
	default:
		if sc.GetRunAsGroup() != nil {
			return invalidf("run_as_group is set without run_as_user or run_as_username")
		}
		if uid, gid, name, err = imageUser(in.Image.User, db); err != nil {
			return err
		}
	}
	if g := sc.GetRunAsGroup(); g != nil {
		if gid, err = checkID("run_as_group", g.GetValue()); err != nil {
			return err
		}
	}

	var extra []uint32
	for _, g := range sc.GetSupplementalGroups() {
		id, err := checkID("supplemental group", g)
		if err != nil {
			return err
		}
		extra = append(extra, id)
	}
	switch sc.GetSupplementalGroupsPolicy() {
	case runtimeapi.SupplementalGroupsPolicy_Merge:
		if name != "" {
			extra = append(extra, db.memberOf(name)...)
		}
	case runtimeapi.SupplementalGroupsPolicy_Strict:
	default:
		return unsupportedf("supplemental groups policy %v", sc.GetSupplementalGroupsPolicy())
	}
	s.Process.User = specs.User{UID: uid, GID: gid, AdditionalGids: groupList(gid, extra)}
	return nil
}

// groupList is the primary GID first, then the others sorted, once each.
func groupList(primary uint32, others []uint32) []uint32 {
	others = slices.Clone(others)
	slices.Sort(others)
	out := []uint32{primary}
	for _, g := range slices.Compact(others) {
		if g != primary {
			out = append(out, g)
		}
	}
	return out
}

// imageUser resolves an image's USER: "", "uid", "name", "uid:gid",
// "name:group", "uid:group" or "name:gid". Names must exist in the image;
// a bare uid not in /etc/passwd runs with GID 0.
func imageUser(spec string, db userDB) (uid, gid uint32, name string, err error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if strings.Contains(groupPart, ":") {
		return 0, 0, "", invalidf("image user %q: too many colons", spec)
	}
	if userPart == "" {
		if hasGroup {
			return 0, 0, "", invalidf("image user %q names a group but no user", spec)
		}
		userPart = "0"
	}
	if n, numErr := strconv.ParseInt(userPart, 10, 64); numErr == nil {
		if uid, err = checkID("image uid", n); err != nil {
			return 0, 0, "", err
		}
		if u, ok := db.userByUID(uid); ok {
			name = u.Name
			if gid, err = checkID("gid", int64(u.Gid)); err != nil {
				return 0, 0, "", err
			}
		}
	} else {
		u, ok := db.userByName(userPart)
		if !ok {
			return 0, 0, "", invalidf("image user %q not found in the image's /etc/passwd", userPart)
		}
		name = u.Name
		if uid, err = checkID("uid", int64(u.Uid)); err != nil {
			return 0, 0, "", err
		}
		if gid, err = checkID("gid", int64(u.Gid)); err != nil {
			return 0, 0, "", err
		}
	}
	if !hasGroup {
		return uid, gid, name, nil
	}
	if groupPart == "" {
		return 0, 0, "", invalidf("image user %q has an empty group", spec)
	}
	if n, numErr := strconv.ParseInt(groupPart, 10, 64); numErr == nil {
		gid, err = checkID("image gid", n)
		return uid, gid, name, err
	}
	g, ok := db.groupByName(groupPart)
	if !ok {
		return 0, 0, "", invalidf("image group %q not found in the image's /etc/group", groupPart)
	}
	gid, err = checkID("gid", int64(g.Gid))
	return uid, gid, name, err
}

func checkID(what string, id int64) (uint32, error) {
	if id < 0 || id > maxID {
		return 0, invalidf("%s %d out of range 0-%d", what, id, maxID)
	}
	return uint32(id), nil
}
