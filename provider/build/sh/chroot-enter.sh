#!/bin/sh
# Enter an image's root file system and run a command there, as PID 1 of the
# private mount and PID namespaces that `unshare --mount --pid --fork` made.
#
#   chroot-enter.sh ROOT COMMAND [ARG...]
#
# Environment: VM_IMAGES_DISK and VM_IMAGES_DISK_OFFSET, a raw disk whose
# file system is mounted on ROOT first; VM_IMAGES_DEB_CACHE, a directory
# mounted over the image's /var/cache/apt/archives.
set -e
root="$1"; shift
made_resolv=
if [ -n "$VM_IMAGES_DISK" ]; then mount -o "loop,offset=$VM_IMAGES_DISK_OFFSET" "$VM_IMAGES_DISK" "$root"; fi
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
if [ -n "$VM_IMAGES_DEB_CACHE" ]; then
  mkdir -p "$VM_IMAGES_DEB_CACHE/partial" "$root/var/cache/apt/archives"
  mount --bind "$VM_IMAGES_DEB_CACHE" "$root/var/cache/apt/archives"
fi
if [ -f /etc/resolv.conf ]; then
  if [ ! -e "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ]; then : > "$root/etc/resolv.conf"; made_resolv=1; fi
  [ -L "$root/etc/resolv.conf" ] || mount --bind /etc/resolv.conf "$root/etc/resolv.conf"
fi
set +e
chroot "$root" "$@"
status=$?
# We are PID 1 of this namespace: nothing the command started outlives it.
kill -s KILL -- -1 2>/dev/null
if [ -n "$made_resolv" ]; then umount "$root/etc/resolv.conf"; rm -f "$root/etc/resolv.conf"; fi
if [ -n "$VM_IMAGES_DISK" ]; then
  # Unmounted here, cleanly, before the next command mounts the disk again.
  for _ in 1 2 3 4 5 6 7 8 9 10; do umount -R "$root" 2>/dev/null && exit $status; sleep 0.2; done
  umount -R "$root" || { echo "vm-images: could not unmount the image from $root" >&2; exit 1; }
fi
exit $status
