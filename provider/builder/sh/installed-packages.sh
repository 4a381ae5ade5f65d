#!/bin/sh
# In the image, after its last change (both backends): what its own dpkg
# database says is installed, and the apt sources it installs from, for its
# SBOM. Each file follows a line "@@vm-images file PATH", every line of it
# after a "|" (so that no blank line is lost and no line of a file reads as
# such a header); of dpkg's status file only the fields the SBOM takes. A
# missing file is left out. Changes nothing.
set -eu
status=/var/lib/dpkg/status
if [ -f "$status" ]; then
  printf '@@vm-images file %s\n' "$status"
  { grep -E '^(Package|Status|Architecture|Version|Source):|^$' "$status" || true; } | sed 's/^/|/'
fi
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  printf '@@vm-images file %s\n' "$f"
  sed 's/^/|/' "$f"
done
