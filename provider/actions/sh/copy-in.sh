#!/bin/sh
# copy-in, in the image: the tar archive on stdin unpacked into the existing
# directory $1 (virt-customize --copy-in refuses a missing one too).
set -e
test -d "$1" || { echo "copy-in: $1 is not a directory in the image" >&2; exit 1; }
tar -xpf - -C "$1"
