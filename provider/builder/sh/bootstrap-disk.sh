#!/bin/bash
# Run mmdebstrap (or any command given) with a new disk's empty file system,
# loop-mounted, as its target: the packages go straight into the disk, with
# no directory to copy in and remove afterwards. Free blocks are given back
# to the disk file (fstrim) before unmounting. Run in a private mount
# namespace, so nothing stays mounted if the build is killed.
#
#   bootstrap-disk.sh DISK OFFSET MOUNTPOINT RUNDIR COMMAND [ARG...]
#
# DISK "-": no disk; MOUNTPOINT is an empty directory, the target itself
# (the guestfs backend's root images, and where loop mounts fail).
#
# The command runs in sandbox-run.sh's sandbox (the package scripts and our
# hooks with it) on the view of the build host that VM_IMAGES_VIEW's bwrap
# options make (sandbox/hostview.ts): a chroot escape lands there, not on
# the host. RUNDIR: a scratch directory for the sandbox's files.
# VM_IMAGES_NOSYNC: a seccomp filter (sandbox/nosync.ts), fsync as a no-op.
# VM_IMAGES_HANDOFF: a directory whose staged/ the hooks fill before any
# package script runs (mmdebstrap-hook.sh handoff); copied then to
# "$VM_IMAGES_HANDOFF.taken", out of the sandbox's reach.
#
# Exit code 64: no loop mount here (the caller builds in a directory).
set -eo pipefail
# The same modes for what is made here, whatever the build's umask.
umask 022
disk="$1"; offset="$2"; mnt="$3"; rundir="$4"; shift 4
here=$(dirname "$0")
if [ "$disk" != - ]; then mount -o loop,offset="$offset",nodev,nosuid "$disk" "$mnt" || exit 64; fi

watcher=
if [ -n "${VM_IMAGES_HANDOFF:-}" ]; then
  h=$VM_IMAGES_HANDOFF
  rm -rf "$h/ready" "$h/taken" "$h.taken"; mkfifo "$h/ready" "$h/taken"
  (
    read -r r < "$h/ready"
    if [ "$r" = ready ] && cp -a -- "$h/staged" "$h.taken"; then echo taken; else echo failed; fi > "$h/taken"
    # Answered once: a package script that opens them later blocks no one.
    rm -f "$h/ready" "$h/taken"
  ) &
  watcher=$!
fi
status=0
unshare --pid --fork --kill-child --mount-proc -- /bin/sh "$here/sandbox-run.sh" "$mnt" "$rundir" -- "$@" || status=$?
if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null || :; wait "$watcher" 2>/dev/null || :; fi

# What the sandbox leaves behind, done where only the host's /usr and the
# disk are seen (usr-only.sh: never a path of the image resolved on the
# host): the mount points of the .deb cache and of the sandbox's device
# files go, and /dev gets the device nodes mmdebstrap's root mode makes
# (without CAP_MKNOD in the sandbox, it made none).
if [ "$status" = 0 ]; then
  # shellcheck disable=SC2016
  /bin/bash "$here/usr-only.sh" "$mnt" --cap-add CAP_MKNOD --cap-add CAP_DAC_OVERRIDE --cap-add CAP_FOWNER --cap-add CAP_CHOWN -- /bin/sh -euc '
      rmdir /target/var/cache/vm-images-debs 2>/dev/null || :
      cd /target/dev
      chmod 755 .
      for f in null zero full random urandom tty; do if [ -f "$f" ] && [ ! -s "$f" ]; then rm -f "$f"; fi; done
      for n in "console 5 1" "full 1 7" "null 1 3" "ptmx 5 2" "random 1 8" "tty 5 0" "urandom 1 9" "zero 1 5"; do
        set -- $n; [ -e "$1" ] || mknod -m 666 "$1" c "$2" "$3"
      done
      for n in "fd /proc/self/fd" "stderr /proc/self/fd/2" "stdin /proc/self/fd/0" "stdout /proc/self/fd/1"; do
        set -- $n; [ -e "$1" ] || [ -L "$1" ] || ln -s "$2" "$1"
      done
      mkdir -p -m 755 pts shm' || status=$?
  # Blocks of files removed since the file system's last journal commit
  # (such as mkinitramfs's temporary tree, about 200 MB) are not free for
  # fstrim until that commit: commit first (syncfs), then trim.
  if [ "$disk" != - ]; then { sync -f "$mnt" && fstrim "$mnt"; } || :; fi
fi
if [ "$disk" != - ]; then umount "$mnt"; fi
exit "$status"
