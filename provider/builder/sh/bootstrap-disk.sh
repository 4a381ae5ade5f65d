#!/bin/bash
# Run mmdebstrap (or any command given) with a new disk's empty file system,
# loop-mounted, as its target: the packages go straight into the disk, with
# no directory to copy in and remove afterwards. Free blocks are given back
# to the disk file (fstrim) before unmounting. Run in a private mount
# namespace, so nothing stays mounted if the build is killed.
#
#   bootstrap-disk.sh DISK OFFSET MOUNTPOINT COMMAND [ARG...]
#
# VM_IMAGES_NOSYNC: a seccomp filter (build/nosync.ts) under which the
# command runs, through bwrap, with fsync and its kin returning at once: the
# disk is thrown away whole if the build fails.
#
# Exit code 64: no loop mount here (the caller builds in a directory).
set -eo pipefail
disk="$1"; offset="$2"; mnt="$3"; shift 3
# nosuid, but not nodev: mmdebstrap makes the image's /dev nodes only where
# it can open a node it made (on a nodev mount it leaves /dev empty).
mount -o loop,nosuid,offset="$offset" "$disk" "$mnt" || exit 64
if [ -n "${VM_IMAGES_NOSYNC:-}" ]; then
  # Everything of the host, as it is (mounts included); bwrap reads the
  # filter from fd 9 and closes it.
  exec 9<"$VM_IMAGES_NOSYNC"
  set -- bwrap --dev-bind / / --seccomp 9 -- "$@"
fi
"$@"
# Blocks of files removed since the file system's last journal commit (such
# as mkinitramfs's temporary tree, about 200 MB) are not free for fstrim
# until that commit: commit first (syncfs), then trim.
{ sync -f "$mnt" && fstrim "$mnt"; } || :
umount "$mnt"
