#!/bin/sh
# On the build host, after an image's apt-get update: copy into the package
# lists cache the indexes it downloaded that the cache lacks or has in an
# older version (such as the Translation files, which root builds do not
# fetch), each only if its SHA256 is the one the cache's InRelease gives. That InRelease was
# fetched and verified by the build host's apt (mmdebstrap-hook.sh
# lists-out), so a file adopted here is the mirror's own, whoever wrote it.
#
#   adopt-lists.sh LISTS CACHE
#
# LISTS: the directory of the run the image's apt-install.sh copied its
#   lists into (sandbox-run.sh), whose sandbox has ended. Whatever the image
#   put there, only regular files are read, and never through a link
#   (find -type f, dd iflag=nofollow).
# CACHE: the lists cache.
set -u
lists=$1; cache=$2
[ -d "$cache" ] || exit 0
# A file of LISTS, read without following a link.
nofollow() { dd if="$1" iflag=nofollow bs=1M status=none; }
find "$lists" -mindepth 1 -maxdepth 1 -type f -name '*_dists_*' -printf '%s %f\n' | while read -r have name; do
  f="$lists/$name"
  case "$name" in *_InRelease | *_Release | *_Release.gpg | */*) continue ;; esac
  # apt names a list file after its URL with / as _ (and _ escaped):
  # MIRROR_dists_SUITE_PATH, listed in MIRROR_dists_SUITE_InRelease as PATH.
  head=${name%%_dists_*}; rest=${name#*_dists_}; suite=${rest%%_*}; file=$(printf %s "${rest#*_}" | tr _ /)
  release="$cache/${head}_dists_${suite}_InRelease"
  [ -f "$release" ] || continue
  # The digest and size given for it; a file of another size is not even read.
  entry=$(awk -v file="$file" '/^[^ ]/ { sha = ($0 == "SHA256:") } sha && $3 == file { print $1, $2; exit }' "$release")
  want=${entry% *}; size=${entry#* }
  if [ -z "$entry" ] || [ "$have" != "$size" ]; then continue; fi
  nofollow "$f" | cmp -s - "$cache/$name" && continue
  tmp="$cache/.$name.$$"
  nofollow "$f" > "$tmp" 2>/dev/null || { rm -f -- "$tmp"; continue; }
  if [ "$(stat -c %s -- "$tmp")" = "$size" ] && [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ]; then mv -f -- "$tmp" "$cache/$name"; else rm -f -- "$tmp"; fi
done
exit 0
