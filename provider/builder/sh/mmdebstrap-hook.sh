#!/bin/sh
# mmdebstrap's setup, extract, essential and customize hooks of our builds, by name.
#
#   mmdebstrap-hook.sh HOOK ROOT [ARG...]
set -e
hook="$1"; root="$2"; shift 2
archives="$root/var/cache/apt/archives"
case "$hook" in
  # Without a root device to look at, initramfs-tools would leave fsck out.
  fstype) mkdir -p "$root/etc/initramfs-tools/conf.d"; echo FSTYPE=ext4 > "$root/etc/initramfs-tools/conf.d/fstype" ;;
  # The shared .deb cache, $1, read-only (as root, in mmdebstrap's mount
  # namespace), with a link to each of its files in the archive directory:
  # apt takes them as downloaded, and nothing in the build, not even
  # mmdebstrap's cleanup after a failure, can remove or change them.
  mount-debs)
    mkdir -p "$archives/partial" "$root/var/cache/vm-images-debs"
    mount --bind "$1" "$root/var/cache/vm-images-debs"
    mount -o remount,bind,ro "$root/var/cache/vm-images-debs"
    find "$1" -maxdepth 1 -type f -name '*.deb' -printf '../../vm-images-debs/%f\0' | xargs -0r ln -s -t "$archives" ;;
  # What apt downloaded (and verified) joins the cache; the links and the mount go.
  unmount-debs)
    find "$archives" -maxdepth 1 -type f -name '*.deb' -exec mv -n -t "$1" -- {} + || :
    find "$archives" -maxdepth 1 -type l -name '*.deb' -delete
    umount "$root/var/cache/vm-images-debs"
    rmdir "$root/var/cache/vm-images-debs" ;;
  # In mmdebstrap's sandbox (bootstrap-disk.sh), which has bound the cache
  # read-only at var/cache/vm-images-debs already and cannot unmount it:
  # the links, and afterwards the new .debs moved to $1, for the build host
  # to adopt only those a verified index lists (package scripts ran in
  # between); the empty mount point is removed after the sandbox.
  link-debs)
    mkdir -p "$archives/partial"
    find "$root/var/cache/vm-images-debs" -maxdepth 1 -type f -name '*.deb' -printf '../../vm-images-debs/%f\0' | xargs -0r ln -s -t "$archives" ;;
  unlink-debs)
    find "$archives" -maxdepth 1 -type f -name '*.deb' -exec mv -n -t "$1" -- {} + || :
    find "$archives" -maxdepth 1 -type l -name '*.deb' -delete ;;
  # In the sandbox, once the lists and sources are staged in $1 (before any
  # package script runs): the build host copies them out of the sandbox's
  # reach (bootstrap-disk.sh) and answers; only then does mmdebstrap go on.
  handoff)
    echo ready > "$1/ready"
    read -r answer < "$1/taken"
    [ "$answer" = taken ] ;;
  # apt's package lists, $1, kept from an earlier build: apt-get update
  # (the build host's apt) then asks the mirror whether each InRelease
  # changed and downloads only the indexes that did. Translations are for
  # images' own apt: mmdebstrap fetches none.
  lists-in)
    [ -d "$1" ] || exit 0
    find "$1" -maxdepth 1 -type f -name '*_*' ! -name '.*' ! -name '*_i18n_*' -exec cp -p -t "$root/var/lib/apt/lists" -- {} + || :
    ;;
  # The lists as apt-get update left them, kept for the next build: taken
  # when the essential packages are unpacked and before any package script
  # has run, so nothing of the image's own writes them. Each file is renamed
  # into place whole; apt checks each index against its InRelease anyway. A
  # cache that cannot be written costs the next build a download, not this
  # build.
  lists-out)
    mkdir -p "$1" || exit 0
    # A killed build's half-copied file (here or from adopt-lists.sh) goes
    # once it is an hour old; a build copying now never takes that long.
    find "$1" -maxdepth 1 -type f -name '.*_*' -mmin +60 -delete 2>/dev/null || :
    for f in "$root"/var/lib/apt/lists/*_*; do
      if [ ! -f "$f" ] || [ -L "$f" ]; then continue; fi
      tmp="$1/.${f##*/}.$$"
      if ! { cp -p -- "$f" "$tmp" && mv -f -- "$tmp" "$1/${f##*/}"; }; then
        rm -f -- "$tmp"; echo "vm-images: could not keep ${f##*/} in $1" >&2
      fi
    done ;;
  # What the packages stage of the root is resolved from, into $1: the
  # image's sources.list and the InRelease files apt read for it, taken with
  # the lists (before any package script has run). Best effort: without
  # them, the stage is not kept.
  stage-sources)
    mkdir -p "$1" || exit 0
    if [ -f "$root/etc/apt/sources.list" ] && [ ! -L "$root/etc/apt/sources.list" ]; then cp -- "$root/etc/apt/sources.list" "$1/" || :; fi
    find "$root/var/lib/apt/lists" -maxdepth 1 -type f -name '*_InRelease' -exec cp -t "$1" -- {} + 2>/dev/null || : ;;
  make-archives) mkdir -p "$archives" ;;
  remove-debs) rm -f "$archives"/*.deb ;;
  # No fsync per file while dpkg unpacks (the tree is packed into a new disk afterwards).
  unsafe-io-on) mkdir -p "$root/etc/dpkg/dpkg.cfg.d"; echo force-unsafe-io > "$root/etc/dpkg/dpkg.cfg.d/00vm-images-unsafe-io" ;;
  unsafe-io-off) rm -f "$root/etc/dpkg/dpkg.cfg.d/00vm-images-unsafe-io" ;;
  # The kernel's postinst and a dpkg trigger would each build the initramfs: once is enough.
  defer-initramfs) chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs; ln -s /bin/true "$root/usr/sbin/update-initramfs" ;;
  # Built with the compressor's fastest level, given in the environment
  # (a conf.d file would be copied into the initramfs), and with
  # mkinitramfs-shortcuts.sh read into mkinitramfs (about 10,000 fewer
  # processes; for an image of a foreign architecture about 1,800 fewer
  # still); the same files inside, written about 10 s sooner natively, and
  # nothing of either stays in the image. In the C locale: each of the
  # processes left saves loading C.UTF-8's locale files (the files inside
  # are the same, and it sorts with LC_ALL=C itself).
  build-initramfs)
    rm "$root/usr/sbin/update-initramfs"
    chroot "$root" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
    shortcuts="$root/usr/share/initramfs-tools/conf-hooks.d/zz-vm-images-build-shortcuts"
    if [ -d "${shortcuts%/*}" ]; then cp -- "$(dirname -- "$0")/mkinitramfs-shortcuts.sh" "$shortcuts"; fi
    # For an image of another architecture than the build host's (its
    # programs run emulated, each start costing far more), the shortcuts
    # also defer the per-module cp into one and read every module's firmware
    # at once, given a directory of their own; off otherwise, so a native
    # image's initramfs is made exactly as before.
    tmp=
    if [ -f "$shortcuts" ] && [ "$(chroot "$root" dpkg --print-architecture)" != "$(dpkg --print-architecture 2>/dev/null)" ]; then
      tmp=$(mktemp -d "$root/var/tmp/vm-images-initramfs.XXXXXX")
    fi
    status=0
    VM_IMAGES_INITRAMFS_TMP=${tmp#"$root"} COMPRESSLEVEL=1 LC_ALL=C LANG=C LANGUAGE=C chroot "$root" update-initramfs -c -k all || status=$?
    rm -f "$shortcuts"
    if [ -n "$tmp" ]; then rm -rf -- "$tmp"; fi
    exit "$status" ;;
  # A bootable image's fstab and extlinux.conf, written into $1/etc/fstab and
  # $1/boot/extlinux/extlinux.conf beforehand (a UEFI-bootable image has no
  # extlinux.conf: its boot loader is on its ESP).
  boot-config)
    install -m 644 "$1/etc/fstab" "$root/etc/fstab"
    if [ -f "$1/boot/extlinux/extlinux.conf" ]; then
      mkdir -p "$root/boot/extlinux"
      install -m 644 "$1/boot/extlinux/extlinux.conf" "$root/boot/extlinux/extlinux.conf"
    fi ;;
  # mmdebstrap copies the build host's /etc/hostname and /etc/resolv.conf:
  # an image must not depend on the machine that built it. A link (such as
  # systemd-resolved's) is the image's own and stays.
  host-independent)
    echo debian > "$root/etc/hostname"
    if [ ! -L "$root/etc/resolv.conf" ]; then rm -f "$root/etc/resolv.conf"; : > "$root/etc/resolv.conf"; fi ;;
  # A mirror's credentials, $1 in apt_auth.conf format, serve apt during
  # the build only: the image's sources name the mirror without them.
  apt-auth-on) mkdir -p "$root/etc/apt/auth.conf.d"; install -m 644 "$1" "$root/etc/apt/auth.conf.d/90vm-images-mirror.conf" ;;
  apt-auth-off) rm -f "$root/etc/apt/auth.conf.d/90vm-images-mirror.conf" ;;
  *) echo "mmdebstrap-hook.sh: unknown hook $hook" >&2; exit 2 ;;
esac
