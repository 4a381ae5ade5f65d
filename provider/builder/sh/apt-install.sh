#!/bin/sh
# In the image: install the packages "$@" as virt-customize --install does
# (apt-get update first; recommends included, new conffiles), starting no
# services: policy-rc.d keeps daemons (docker, sshd) from starting. Lists
# the image lacks start from the build host's copies (sandbox-run.sh), so
# apt downloads only the indexes whose InRelease changed; it removes those
# no source of the image names. The .debs go to the run's archive directory
# at a path of the sandbox's own (/run/vm-images/archives), never through
# the image's /var/cache/apt.
if [ -d /run/vm-images/apt-lists ] && [ -d /var/lib/apt/lists ]; then
  find /run/vm-images/apt-lists -maxdepth 1 -type f -name '*_*' ! -name '.*' -exec cp -n -p -t /var/lib/apt/lists -- {} + 2>/dev/null || :
fi
apt-get -q -y update || exit
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
archives=
if [ -d /run/vm-images/archives ]; then archives=/run/vm-images/archives/; fi
apt-get -q -y -o Dpkg::Options::=--force-confnew -o Dpkg::Options::=--force-unsafe-io ${archives:+-o Dir::Cache::Archives=$archives} install "$@"
status=$?
rm -f /usr/sbin/policy-rc.d
# The indexes apt fetched that the cache lacks or has in another version,
# handed to the build host in a directory of the sandbox's own, which is all
# adopt-lists.sh reads: the host never reads the image's tree.
if [ "$status" = 0 ] && [ -d /run/vm-images/lists-out ]; then
  for f in /var/lib/apt/lists/*_dists_*; do
    if [ -f "$f" ] && ! cmp -s -- "$f" "/run/vm-images/apt-lists/${f##*/}" 2>/dev/null; then cp -- "$f" /run/vm-images/lists-out/ || :; fi
  done
fi
exit $status
