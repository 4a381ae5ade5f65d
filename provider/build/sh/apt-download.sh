#!/bin/sh
# In the image: fetch the package lists, and download (and verify) the
# packages "$@" and what they need, running no package script.
apt-get -q -y update && apt-get -q -y --download-only install "$@"
