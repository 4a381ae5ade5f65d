#!/bin/sh
# In the image, in the sandbox, after its actions: what two builds of the
# same inputs write differently and nothing needs, emptied or removed.
# Times are set afterwards, outside (repack-disk.sh).
set -eu
# systemd makes the machine's id at its first boot when the file is empty.
if [ -f /etc/machine-id ] && [ ! -L /etc/machine-id ]; then : > /etc/machine-id; fi
if [ -f /var/lib/dbus/machine-id ] && [ ! -L /var/lib/dbus/machine-id ]; then rm -f /var/lib/dbus/machine-id; fi
# A seed every VM of the image would share.
rm -f /var/lib/systemd/random-seed
# Logs of the build: emptied (the files stay, with their owners and modes), rotated ones removed.
if [ -d /var/log ] && [ ! -L /var/log ]; then
  find /var/log -xdev -type f \( -name '*.gz' -o -name '*.xz' -o -name '*.[0-9]' \) -delete
  find /var/log -xdev -type f -exec truncate -s 0 {} +
fi
# Caches that record when, or in which order, they were made; each is made again when needed.
rm -f /var/cache/ldconfig/aux-cache /var/cache/debconf/*-old /var/lib/dpkg/*-old /var/cache/apt/*.bin
if [ -d /var/cache/man ] && [ ! -L /var/cache/man ]; then find /var/cache/man -xdev -type f -delete; fi
