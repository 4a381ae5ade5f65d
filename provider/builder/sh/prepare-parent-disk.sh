#!/bin/bash
# Check that a copied parent disk's file system loop-mounts here and, with
# "grow", grow it offline to BYTES, the size of its (already grown)
# partition or disk. Run in a private mount namespace.
#
#   prepare-parent-disk.sh DISK OFFSET MOUNTPOINT grow|keep BYTES
#
# Exit code 64: no loop mount here (the caller falls back to libguestfs).
set -eo pipefail
# Read-only, without the journal: the copy keeps the parent's bytes (a
# child is written in later, by debugfs). Mounting proves loop mounts work.
mount -o loop,ro,noload,nodev,nosuid,offset="$2" "$1" "$3" || exit 64
umount "$3"
if [ "$4" = grow ]; then
  # Offline, on the file itself (e2fsprogs open FILE?offset=N): no loop
  # device to leave behind, and the size given, since the file system ends
  # where its partition does (an MBR's at the file's end, a GPT's before its
  # backup table), not where the file does, OFFSET bytes after it.
  e2fsck -f -p "$1?offset=$2" || [ $? -le 1 ]
  resize2fs "$1?offset=$2" "$(( $5 / 1024 ))K"
fi
