#!/bin/bash
# Install extlinux into a bootable disk's file system, through a loop mount
# (run in a private mount namespace).
#
#   extlinux-install.sh DISK OFFSET MOUNTPOINT
set -eo pipefail
mount -o loop,nodev,nosuid,offset="$2" "$1" "$3"
# Package scripts ran in this file system: extlinux writes where /boot leads,
# so a link there (to the host's disk) is refused.
for d in "$3/boot" "$3/boot/extlinux"; do
  if [ -L "$d" ] || [ ! -d "$d" ]; then echo "vm-images: the image's ${d#"$3"} is not a directory: refused" >&2; umount "$3"; exit 1; fi
done
extlinux --install "$3/boot/extlinux"
umount "$3"
