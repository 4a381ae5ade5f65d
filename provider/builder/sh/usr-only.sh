#!/bin/bash
# Run one of the host's programs on an image's file system, in a bwrap that
# sees only the host's /usr (with its /bin, /lib and /sbin links), a fresh
# /proc and /dev, and the file system at /target: a path the image holds
# (a link planted by a package) resolves in there, never on the host.
#
#   usr-only.sh DIR [BWRAP-OPTION...] -- COMMAND [ARG...]
#
# BWRAP-OPTION: the capabilities it needs (it starts with none), devices.
set -eo pipefail
dir=$1; shift
opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
[ "${1:-}" = -- ] || { echo "usage: $0 DIR [BWRAP-OPTION...] -- COMMAND [ARG...]" >&2; exit 2; }
shift
view=(--ro-bind /usr /usr)
for d in bin lib lib32 lib64 libx32 sbin; do
  if [ -L "/$d" ]; then view+=(--symlink "$(readlink "/$d")" "/$d"); elif [ -d "/$d" ]; then view+=(--ro-bind "/$d" "/$d"); fi
done
# In a PID namespace and /proc of its own: bwrap looks its child up in /proc.
exec unshare --pid --fork --kill-child --mount-proc -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin bwrap "${view[@]}" \
  --proc /proc --dev /dev --bind "$dir" /target \
  --unshare-pid --unshare-net --unshare-ipc --unshare-uts --die-with-parent --cap-drop ALL "${opts[@]}" -- "$@"
