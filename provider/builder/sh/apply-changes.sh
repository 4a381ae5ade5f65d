#!/bin/bash
# A derived image's changes written into its disk's file system by debugfs
# (run in a private mount namespace, no guest code running): the upper
# directory's file system mounted read-only where the commands read new
# files from, then the commands (direct/changes.ts made them).
#
#   apply-changes.sh DIR FS COMMANDS
#
# FS is the disk's file system as debugfs names it (FILE?offset=N).
set -eo pipefail
umask 022
dir=$1 target=$2 commands=$3
mount -o loop,ro,nodev,nosuid "$dir/changes.img" "$dir/fs"
# Its errors only (it echoes every command on stdout).
{ debugfs -w -f "$commands" "$target" >/dev/null; } 2>&1
