#!/bin/sh
# upload, in the image: stdin into the file $1, or into $1/$2 when $1 is a
# directory; then the host file's owner ($4:$5) and mode ($3), as
# virt-customize --upload keeps them (owner first: chown clears set-id bits).
set -e
dest="$1"
if [ -d "$dest" ]; then dest="$dest/$2"; fi
cat > "$dest"
chown "$4:$5" "$dest"
chmod "$3" "$dest"
