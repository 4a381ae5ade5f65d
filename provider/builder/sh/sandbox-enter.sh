#!/bin/sh
# Inside the sandbox, in the image's own /bin/sh (so that no path of the
# image is ever resolved on the host): run "$@" with /etc/resolv.conf set for
# the run, and the image's own entry (a file, a link such as
# systemd-resolved's, or nothing) put back after, as virt-customize does.
saved=/etc/.resolv.conf.vm-images
# A run that was killed left the image's entry aside: put it back first.
if [ -e "$saved" ] || [ -L "$saved" ]; then rm -f /etc/resolv.conf; mv -f "$saved" /etc/resolv.conf; fi
if [ -e /etc/resolv.conf ] || [ -L /etc/resolv.conf ]; then mv -f /etc/resolv.conf "$saved"; fi
cat /run/vm-images/resolv.conf > /etc/resolv.conf
"$@"
status=$?
rm -f /etc/resolv.conf
if [ -e "$saved" ] || [ -L "$saved" ]; then mv -f "$saved" /etc/resolv.conf; fi
exit $status
