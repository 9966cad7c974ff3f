// SPDX-License-Identifier: Apache-2.0

package images

// The account databases of the base image. www-data (33) must exist for
// critest's test-image-user-username images; nobody and the usual system
// accounts make it look like any small distribution image.
const basePasswd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`

const baseGroup = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65534:
`

// The additions critest's test-image-predefined-group makes with
// `adduser -u 1000 -D default-user; addgroup -g 50000 group-defined-in-image;
// addgroup default-user group-defined-in-image`: user 1000 whose primary
// group is 1000 and who is also listed in group 50000.
const (
	predefinedUserPasswd = "default-user:x:1000:1000::/home/default-user:/bin/sh\n"
	predefinedUserGroup  = "default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n"
)

// nsswitch.conf spells out glibc's lookups, so `id -nu` and friends read the
// image's /etc files whatever glibc's built-in defaults are.
const nsswitchConf = `passwd: files
group: files
shadow: files
hosts: files dns
`

// defaultPath is the PATH of every image config.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
