#!/bin/bash
# Install extlinux into a bootable disk's file system, through a loop mount
# (run in a private mount namespace).
#
#   extlinux-install.sh DISK OFFSET MOUNTPOINT
set -eo pipefail
mount -o loop,offset="$2" "$1" "$3"
extlinux --install "$3/boot/extlinux"
umount "$3"
