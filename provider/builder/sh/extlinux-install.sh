#!/bin/bash
# Install extlinux into a bootable disk's file system, through a loop mount
# (run in a private mount namespace). The host's extlinux runs where only
# the host's /usr, the file system and its loop device are seen
# (usr-only.sh): a boot/extlinux that a package made a link resolves inside
# the image, never on the host.
#
#   extlinux-install.sh DISK OFFSET MOUNTPOINT
set -eo pipefail
# The same modes for what is made here, whatever the build's umask.
umask 022
mount -o loop,offset="$2",nodev,nosuid "$1" "$3"
# Package scripts ran in this file system: extlinux writes where /boot leads,
# so a link there (to the host's disk) is refused.
for d in "$3/boot" "$3/boot/extlinux"; do
  if [ -L "$d" ] || [ ! -d "$d" ]; then echo "vm-images: the image's ${d#"$3"} is not a directory: refused" >&2; umount "$3"; exit 1; fi
done
dev=$(findmnt -n -o SOURCE --mountpoint "$3")
# FIBMAP to find ldlinux.sys's blocks, the immutable flag it sets on it, and
# ldlinux.sys and ldlinux.c32 rewritten where a parent's install left them
# read-only.
/bin/bash "$(dirname "$0")/usr-only.sh" "$3" --dev-bind "$dev" "$dev" --cap-add CAP_SYS_RAWIO --cap-add CAP_LINUX_IMMUTABLE --cap-add CAP_DAC_OVERRIDE -- \
  extlinux --install /target/boot/extlinux
umount "$3"
