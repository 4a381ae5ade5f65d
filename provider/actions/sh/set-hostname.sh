#!/bin/sh
# set-hostname, in the image: $1 into /etc/hostname, and in place of the old
# name in /etc/hosts (as virt-customize does on Debian).
set -e
old=$(cat /etc/hostname 2>/dev/null || true)
printf '%s\n' "$1" > /etc/hostname
if [ -n "$old" ] && [ -f /etc/hosts ]; then sed -i "s/\b$old\b/$1/g" /etc/hosts; fi
