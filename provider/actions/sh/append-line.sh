#!/bin/sh
# append-line, in the image: the line $2 at the end of the file $1, after a
# newline when the file does not end with one (as virt-customize does).
set -e
f="$1"
if [ -s "$f" ] && [ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; then printf '\n' >> "$f"; fi
printf '%s\n' "$2" >> "$f"
