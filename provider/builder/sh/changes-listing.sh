#!/bin/bash
# A derived image's changes listed (run in a private mount namespace, no
# guest code running): its disk's file system and the overlay's upper
# directory that the build's runs wrote to (sh/sandbox-run.sh), both
# mounted read-only; direct/changes.ts reads the lists.
#
#   changes-listing.sh DISK OFFSET DIR
#
# Writes, in DIR: lower.list (every entry of the disk's file system: TYPE
# PATH, NUL-terminated), upper.list (TYPE MODE UID GID MTIME INODE LINKS,
# PATH and link target, each NUL-terminated), devices.list (the upper
# directory's device numbers, in hex, with their paths) and xattrs.txt
# (getfattr's dump of it). find never follows a link.
set -eo pipefail
umask 022
disk=$1 offset=$2 dir=$3
mkdir -p "$dir/lower" "$dir/fs"
mount -o loop,ro,noload,nodev,nosuid,offset="$offset" "$disk" "$dir/lower"
mount -o loop,ro,nodev,nosuid "$dir/changes.img" "$dir/fs"
(cd "$dir/lower" && find . -xdev -printf '%y %p\0') > "$dir/lower.list"
upper=$dir/fs/upper
mkdir -p "$dir/empty"
[ -d "$upper" ] || upper=$dir/empty
(cd "$upper" && find . -xdev -printf '%y %m %U %G %T@ %i %n\0%p\0%l\0') > "$dir/upper.list"
(cd "$upper" && find . -xdev \( -type c -o -type b \) -print0 | xargs -0r stat --printf '%t %T %n\0') > "$dir/devices.list"
getfattr -R -P -h -d -m - -e hex --absolute-names "$upper" > "$dir/xattrs.txt" 2>"$dir/xattrs.err" || [ ! -s "$dir/xattrs.err" ]
echo "$upper" > "$dir/upper.path"
