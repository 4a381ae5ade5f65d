#!/bin/bash
# Run mmdebstrap (or any command given) with a new disk's empty file system,
# loop-mounted, as its target: the packages go straight into the disk, with
# no directory to copy in and remove afterwards. Free blocks are given back
# to the disk file (fstrim) before unmounting. Run in a private mount
# namespace, so nothing stays mounted if the build is killed.
#
#   bootstrap-disk.sh DISK OFFSET MOUNTPOINT COMMAND [ARG...]
#
# Exit code 64: no loop mount here (the caller builds in a directory).
set -eo pipefail
disk="$1"; offset="$2"; mnt="$3"; shift 3
mount -o loop,offset="$offset" "$disk" "$mnt" || exit 64
"$@"
fstrim "$mnt" || :
umount "$mnt"
