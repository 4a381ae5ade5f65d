#!/bin/sh
# mmdebstrap's setup, essential and customize hooks of our builds, by name.
#
#   mmdebstrap-hook.sh HOOK ROOT [ARG...]
set -e
hook="$1"; root="$2"; shift 2
archives="$root/var/cache/apt/archives"
case "$hook" in
  # Without a root device to look at, initramfs-tools would leave fsck out.
  fstype) mkdir -p "$root/etc/initramfs-tools/conf.d"; echo FSTYPE=ext4 > "$root/etc/initramfs-tools/conf.d/fstype" ;;
  # The shared .deb cache, $1, over the archive directory (as root, in mmdebstrap's mount namespace).
  mount-debs) mkdir -p "$archives"; mount --bind "$1" "$archives" ;;
  unmount-debs) umount "$archives" ;;
  make-archives) mkdir -p "$archives" ;;
  remove-debs) rm -f "$archives"/*.deb ;;
  # No fsync per file while dpkg unpacks (the tree is packed into a new disk afterwards).
  unsafe-io-on) mkdir -p "$root/etc/dpkg/dpkg.cfg.d"; echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/00vm-images-unsafe-io" ;;
  unsafe-io-off) rm -f "$root/etc/dpkg/dpkg.cfg.d/00vm-images-unsafe-io" ;;
  # The kernel's postinst and a dpkg trigger would each build the initramfs: once is enough.
  defer-initramfs) chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs; ln -s /bin/true "$root/usr/sbin/update-initramfs" ;;
  build-initramfs)
    rm "$root/usr/sbin/update-initramfs"
    chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
    chroot "$root" update-initramfs -c -k all ;;
  # mmdebstrap copies the build host's /etc/hostname and /etc/resolv.conf:
  # an image must not depend on the machine that built it. A link (such as
  # systemd-resolved's) is the image's own and stays.
  host-independent)
    echo debian > "$root/etc/hostname"
    if [ ! -L "$root/etc/resolv.conf" ]; then rm -f "$root/etc/resolv.conf"; : > "$root/etc/resolv.conf"; fi ;;
  *) echo "mmdebstrap-hook.sh: unknown hook $hook" >&2; exit 2 ;;
esac
