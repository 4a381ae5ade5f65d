#!/bin/bash
# A finished image's files into a new disk, made the same way from the same
# files whatever the build's clock, directory or host (run in a private
# mount namespace): every access time, and every modification time after
# the source date, set to the source date, then mke2fs -d (which walks the
# tree in name order) with fixed ids, the clock at the source date and no
# journal yet (a BIOS-bootable disk's extlinux goes in through a loop mount
# first; the journal is added after).
#
#   repack-disk.sh SOURCE OFFSET NEW TABLE BYTES EPOCH UUID HASH_SEED DISK_ID MOUNTPOINT [SFDISK_SCRIPT ROOT_OFFSET ROOT_KIB]
#
# TABLE: 0, the file system on the whole disk; 1, an MBR (DISK_ID) with the
# file system in its partition at 1 MiB; gpt, the partition table that
# SFDISK_SCRIPT makes, with the file system at ROOT_OFFSET bytes, ROOT_KIB
# KiB long (its partition's size).
#
# SOURCE is the build's disk (its file system at OFFSET, loop-mounted on
# MOUNTPOINT) or a directory. No guest code runs while this does, so find's
# walk (which never follows a link) and touch -h see a tree that holds still.
set -eo pipefail
# The same modes for what is made here, whatever the build's umask.
umask 022
source=$1 offset=$2 new=$3 table=$4 bytes=$5 epoch=$6 uuid=$7 seed=$8 diskid=$9 mnt=${10}
tree=$source
if [ -f "$source" ]; then
  mount -o loop,offset="$offset",noatime,nodev,nosuid "$source" "$mnt"
  tree=$mnt
fi
# extlinux's ldlinux.sys is immutable: its times are set after (debugfs).
loader=$tree/boot/extlinux/ldlinux.sys
find "$tree" -xdev ! -path "$loader" -exec touch -h -a -d "@$epoch" {} +
find "$tree" -xdev ! -path "$loader" -newermt "@$epoch" -exec touch -h -m -d "@$epoch" {} +
if [ "$tree" = "$mnt" ]; then mount -o remount,ro "$mnt"; fi
rm -f "$new"
truncate -s "$bytes" "$new"
export E2FSPROGS_FAKE_TIME=$epoch
options=(-q -F -t ext4 -O ^has_journal -U "$uuid")
if [ "$table" = 1 ]; then
  printf 'label: dos\nlabel-id: 0x%s\nstart=2048, type=83, bootable\n' "$diskid" | sfdisk --quiet --no-reread --no-tell-kernel "$new"
  mke2fs "${options[@]}" -E "hash_seed=$seed,lazy_itable_init=0,offset=1048576" -d "$tree" "$new" "$(( (bytes - 1048576) / 1024 ))k"
elif [ "$table" = gpt ]; then
  sfdisk --quiet --no-reread --no-tell-kernel "$new" < "${11}"
  mke2fs "${options[@]}" -E "hash_seed=$seed,lazy_itable_init=0,offset=${12}" -d "$tree" "$new" "${13}k"
else
  mke2fs "${options[@]}" -E "hash_seed=$seed,lazy_itable_init=0" -d "$tree" "$new"
fi
if [ "$tree" = "$mnt" ]; then umount "$mnt"; fi
