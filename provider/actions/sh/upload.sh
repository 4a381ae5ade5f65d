#!/bin/sh
# upload, in the image: stdin into the file $1.
set -e
cat > "$1"
