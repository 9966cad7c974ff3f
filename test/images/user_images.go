// SPDX-License-Identifier: Apache-2.0

package images

import (
	"fmt"
)

// Images made after cri-tools' images/image-test, image-user and
// image-predefined-group Dockerfiles, all FROM busybox.

// withFile is images/image-test: busybox plus an empty file at the root
// named after the test (ADD ${TEST} ${TEST}), which is what makes
// test-image-1, -2 and -3 different images.
func (b *builder) withFile(name string) (imageSpec, error) {
	l, err := layerFromEntries(tree{}.with(regFile(name, 0o644, nil)), gzipped, "ADD "+name+" "+name)
	if err != nil {
		return imageSpec{}, fmt.Errorf("%s layer: %w", name, err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	return spec, nil
}

// withUser is images/image-user: busybox with only USER changed, so no new
// layer.
func (b *builder) withUser(user string) imageSpec {
	spec := b.busybox()
	spec.config.User = user
	return spec
}

// predefinedGroup is images/image-predefined-group: user default-user
// (uid 1000, primary group 1000) is also a member of
// group-defined-in-image (gid 50000) in /etc/group; USER 1000.
func (b *builder) predefinedGroup() (imageSpec, error) {
	home := dirEntry("home/default-user", 0o755)
	home.UID, home.GID = 1000, 1000
	l, err := layerFromEntries(tree{}.with(
		regFile("etc/passwd", 0o644, []byte(basePasswd+predefinedUserPasswd)),
		regFile("etc/group", 0o644, []byte(baseGroup+predefinedUserGroup)),
		home,
	), gzipped, "adduser -u 1000 -D default-user && addgroup -g 50000 group-defined-in-image && addgroup default-user group-defined-in-image")
	if err != nil {
		return imageSpec{}, fmt.Errorf("predefined-group layer: %w", err)
	}
	spec := b.busybox()
	spec.layers = append(spec.layers, l)
	spec.config.User = "1000"
	return spec, nil
}
