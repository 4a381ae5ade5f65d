#!/bin/sh
# tar-in, in the image: the archive on stdin unpacked into $1, made if missing.
set -e
mkdir -p "$1"
tar -xpf - -C "$1"
