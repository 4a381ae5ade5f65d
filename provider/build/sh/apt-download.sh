#!/bin/sh
# In the image: fetch the package lists, and download (and verify) the
# packages "$@" and what they need, running no package script. Lists the
# image lacks start from the build host's copies (sandbox-run.sh), so apt
# downloads only the indexes whose InRelease changed; it removes those no
# source of the image names.
if [ -d /run/vm-images/apt-lists ] && [ -d /var/lib/apt/lists ]; then
  find /run/vm-images/apt-lists -maxdepth 1 -type f -name '*_*' ! -name '.*' -exec cp -n -p -t /var/lib/apt/lists -- {} + 2>/dev/null || :
fi
apt-get -q -y update && apt-get -q -y --download-only install "$@"
