#!/bin/sh
# In the image: install the packages "$@" as virt-customize --install does
# (apt-get update first; recommends included, new conffiles), starting no
# services: policy-rc.d keeps daemons (docker, sshd) from starting. Lists
# the image lacks start from the build host's copies (sandbox-run.sh), so
# apt downloads only the indexes whose InRelease changed; it removes those
# no source of the image names.
if [ -d /run/vm-images/apt-lists ] && [ -d /var/lib/apt/lists ]; then
  find /run/vm-images/apt-lists -maxdepth 1 -type f -name '*_*' ! -name '.*' -exec cp -n -p -t /var/lib/apt/lists -- {} + 2>/dev/null || :
fi
apt-get -q -y update || exit
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
apt-get -q -y -o Dpkg::Options::=--force-confnew -o Dpkg::Options::=--force-unsafe-io install "$@"
status=$?
rm -f /usr/sbin/policy-rc.d
exit $status
