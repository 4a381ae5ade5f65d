#!/bin/bash
# Check that a copied parent disk's file system loop-mounts here and, with
# "grow", grow it offline to fill its (already grown) partition or disk. Run
# in a private mount namespace.
#
#   prepare-parent-disk.sh DISK OFFSET MOUNTPOINT grow|keep
#
# Exit code 64: no loop mount here (the caller falls back to libguestfs).
set -eo pipefail
# Read-only, without the journal: the copy keeps the parent's bytes (a child is written in later, by debugfs).
mount -o loop,ro,noload,nodev,nosuid,offset="$2" "$1" "$3" || exit 64
if [ "$4" = grow ]; then
  # Online growth needs CAP_SYS_RESOURCE: hold the loop device open while
  # its file system is unmounted, and grow it offline.
  dev=$(findmnt -n -o SOURCE --target "$3")
  exec 3<>"$dev"
  umount "$3"
  e2fsck -f -p "$dev" || [ $? -le 1 ]
  resize2fs "$dev"
else
  umount "$3"
fi
