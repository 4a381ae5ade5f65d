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
# LISTS: the image's /var/lib/apt/lists, as mounted on the host.
# CACHE: the lists cache.
set -u
lists=$1; cache=$2
[ -d "$cache" ] || exit 0
for f in "$lists"/*_dists_*; do
  if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
  name=${f##*/}
  case "$name" in *_InRelease | *_Release | *_Release.gpg) continue ;; esac
  cmp -s -- "$f" "$cache/$name" && continue
  # apt names a list file after its URL with / as _ (and _ escaped):
  # MIRROR_dists_SUITE_PATH, listed in MIRROR_dists_SUITE_InRelease as PATH.
  head=${name%%_dists_*}; rest=${name#*_dists_}; suite=${rest%%_*}; file=$(printf %s "${rest#*_}" | tr _ /)
  release="$cache/${head}_dists_${suite}_InRelease"
  [ -f "$release" ] || continue
  # The digest and size given for it; a file of another size is not even read.
  entry=$(awk -v file="$file" '/^[^ ]/ { sha = ($0 == "SHA256:") } sha && $3 == file { print $1, $2; exit }' "$release")
  want=${entry% *}; size=${entry#* }
  if [ -z "$entry" ] || [ "$(stat -c %s -- "$f")" != "$size" ]; then continue; fi
  tmp="$cache/.$name.$$"
  cp -- "$f" "$tmp" 2>/dev/null || { rm -f -- "$tmp"; continue; }
  if [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" = "$want" ]; then mv -f -- "$tmp" "$cache/$name"; else rm -f -- "$tmp"; fi
done
exit 0
