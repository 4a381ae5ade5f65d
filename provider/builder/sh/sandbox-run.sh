#!/bin/sh
# Run a command inside an image's root file system, in a bubblewrap sandbox
# that cannot touch the build host. Called as PID 1 of private mount and PID
# namespaces (`unshare --mount --pid --fork --kill-child`), so whatever it
# starts ends with it.
#
#   sandbox-run.sh ROOT RUNDIR -- COMMAND [ARG...]
#
# ROOT: the image's root directory, or the mount point of its disk when
#   VM_IMAGES_DISK (and VM_IMAGES_DISK_OFFSET) name a raw disk to mount;
#   with VM_IMAGES_DISK_CHANGES=DIR, the disk is mounted read-only and the
#   run's changes go to an overlay's upper directory, upper/ in the file
#   system DIR/changes.img.
# RUNDIR: a scratch directory of the build, for this run's files.
# VM_IMAGES_DEB_CACHE: the shared .deb cache, bound read-only; apt sees a
#   per-run archive directory of links into it, at /run/vm-images/archives. With VM_IMAGES_NEW_DEBS=DIR,
#   the regular .deb files of that directory after success (what apt
#   downloaded, or what anything in the image put there) are moved to DIR,
#   for the caller to check against the verified indexes (cache/debadopt.ts).
# VM_IMAGES_APT_LISTS: the package lists cache, bound read-only at
#   /run/vm-images/apt-lists for apt-install.sh to start from; after
#   success, the indexes the image's apt fetched (which apt-install.sh hands
#   out in /run/vm-images/lists-out) join the cache if the cache's InRelease
#   vouches for them (adopt-lists.sh).
# VM_IMAGES_NOSYNC: a seccomp filter (sandbox/seccomp.ts) bwrap loads, under
#   which fsync and its kin return at once (the image is thrown away whole if
#   the build fails, so flushing each file to the disk file buys nothing),
#   and the keyrings, new user namespaces, io_uring, bpf and the like fail.
#
# Inside: the image as /, a fresh /proc with /proc/sys read-only, a minimal
# /dev, no /sys, a fresh /run, private PID, UTS, IPC and network namespaces
# (user-mode networking by slirp4netns, the host's loopback unreachable), the
# capabilities dpkg and package scripts need and no others, no host
# environment. DNS as virt-customize does it: a resolv.conf for the run, and
# the image's own (file, link or nothing) put back after (sandbox-enter.sh).
# The host never follows a path of the image: bwrap mounts only on the
# image's top-level mount points (checked here first) and under its own
# /run, and the host reads nothing of the image's tree.
set -eu
# The same modes for what is made here, whatever the build's umask.
umask 022
if [ $# -lt 3 ] || [ "$3" != -- ]; then echo "usage: $0 ROOT RUNDIR -- COMMAND [ARG...]" >&2; exit 2; fi
root=$1; mkdir -p "$2"; run=$(mktemp -d "$2/run.XXXXXX"); shift 3
# Our stdin (an upload's file, a tar archive) goes to the command: kept on
# fd 3, since a command started with & gets /dev/null.
exec 3<&0
here=$(dirname "$0")
trap 'rm -rf "$run"' EXIT
# A new, empty session keyring for this shell and all it starts (keyctl
# installs it on its parent): nothing of the host root's session keyring is
# reachable inside, even past the filter.
keyctl new_session >/dev/null

# The build's bounds (sandbox/bounds.ts): this script, so all it starts,
# joins the build's cgroups (memory, tasks, CPU); each tmpfs holds at most
# VM_IMAGES_TMPFS_SIZE bytes (its pages count as the build's memory too).
for cg in ${VM_IMAGES_CGROUPS:-}; do echo 0 > "$cg/cgroup.procs"; done
tmpfs=${VM_IMAGES_TMPFS_SIZE:-1073741824}

changes=${VM_IMAGES_DISK_CHANGES:-}
if [ -n "${VM_IMAGES_DISK:-}" ] && [ -n "$changes" ]; then
  # The disk stays as it is: its file system read-only below an overlay
  # whose upper directory collects every change (applied after, with
  # debugfs: direct/changes.ts). The upper directory is in a file system of
  # its own, DIR/changes.img, no larger than the disk: a run fills that, not
  # the build host's disk.
  mkdir -p "$changes/lower" "$changes/fs"
  mount -o "loop,ro,noload,nodev,nosuid,offset=${VM_IMAGES_DISK_OFFSET:-0}" "$VM_IMAGES_DISK" "$changes/lower" || exit 64
  mount -o loop,nodev,nosuid "$changes/changes.img" "$changes/fs" || exit 64
  mkdir -p "$changes/fs/upper" "$changes/fs/work"
  mount -t overlay -o "lowerdir=$changes/lower,upperdir=$changes/fs/upper,workdir=$changes/fs/work,nodev,nosuid" overlay "$root" || exit 64
elif [ -n "${VM_IMAGES_DISK:-}" ]; then
  mount -o "loop,nodev,nosuid,offset=${VM_IMAGES_DISK_OFFSET:-0}" "$VM_IMAGES_DISK" "$root" || exit 64
fi
unmount() {
  [ -n "${VM_IMAGES_DISK:-}" ] || return 0
  # Unmounted here, cleanly, before the next command mounts the disk again.
  for _ in 1 2 3 4 5 6 7 8 9 10; do umount "$root" 2>/dev/null && break; sleep 0.2; done
  if mountpoint -q "$root"; then umount "$root" || { echo "vm-images: could not unmount the image from $root" >&2; return 1; }; fi
  [ -z "$changes" ] || umount "$changes/lower" "$changes/fs" || { echo "vm-images: could not unmount the image from $changes" >&2; return 1; }
}

# bwrap resolves its mount points while the host's root is its /oldroot: a
# link there (/run -> /oldroot/etc) would have it mount, and make
# directories, on the host. Checked before any guest code runs; these are
# all the image's paths bwrap mounts on (the rest is under its /dev, /run).
for d in proc dev sys run; do
  if [ -L "$root/$d" ]; then
    echo "vm-images: the image's /$d is a symbolic link, where the sandbox mounts its own /$d: refused; make /$d a directory in the image" >&2
    unmount; exit 1
  fi
done

cache=${VM_IMAGES_DEB_CACHE:-}
if [ -n "$cache" ]; then
  mkdir -p "$cache" "$run/archives/partial"
  chmod 755 "$run/archives"
  find "$cache" -maxdepth 1 -type f -name '*.deb' -printf '/run/vm-images/debs/%f\0' | xargs -0r ln -s -t "$run/archives"
fi

# The resolver the run gets: slirp4netns's forwarder, which also reaches a
# resolver on the host's loopback, with the host's search and options lines.
{ echo "nameserver 10.0.2.3"; grep -v '^[[:space:]]*nameserver' /etc/resolv.conf 2>/dev/null || :; } > "$run/resolv.conf"

# bwrap's argv, built from the end: the command, then the optional parts, then the rest.
# The build's source date (digits only: two words), for the tools that read
# it (shadow's, mkinitramfs, ...).
case "${VM_IMAGES_SOURCE_DATE_EPOCH:-}" in
  '' | *[!0-9]*) source_date= ;;
  *) source_date="--setenv SOURCE_DATE_EPOCH $VM_IMAGES_SOURCE_DATE_EPOCH" ;;
esac
# shellcheck disable=SC2086 # $source_date: none, or two words
set -- --die-with-parent --new-session \
  --cap-drop ALL \
  --cap-add CAP_CHOWN --cap-add CAP_DAC_OVERRIDE --cap-add CAP_FOWNER --cap-add CAP_FSETID \
  --cap-add CAP_SETUID --cap-add CAP_SETGID --cap-add CAP_SETFCAP --cap-add CAP_KILL --cap-add CAP_SYS_CHROOT \
  --clearenv --setenv PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --setenv HOME /root --setenv LC_ALL C.UTF-8 --setenv DEBIAN_FRONTEND noninteractive $source_date \
  --chdir / \
  /bin/sh /run/vm-images/enter.sh "$@"
if [ -n "$cache" ]; then set -- --ro-bind "$cache" /run/vm-images/debs --bind "$run/archives" /run/vm-images/archives "$@"; fi
if [ -n "${VM_IMAGES_APT_LISTS:-}" ]; then
  mkdir "$run/lists-out"; set -- --bind "$run/lists-out" /run/vm-images/lists-out "$@"
  if [ -d "$VM_IMAGES_APT_LISTS" ]; then set -- --ro-bind "$VM_IMAGES_APT_LISTS" /run/vm-images/apt-lists "$@"; fi
fi
# bwrap reads the filter from fd 9, and closes it.
if [ -n "${VM_IMAGES_NOSYNC:-}" ]; then exec 9<"$VM_IMAGES_NOSYNC"; set -- --seccomp 9 "$@"; fi
# /dev/shm, a directory of --dev's unbounded tmpfs, gets a sized one.
set -- --perms 01777 --size "$tmpfs" --tmpfs /dev/shm "$@"
# /proc/keys and /proc/key-users name the keys of the host's users (root's
# among them) whatever keyring the run joined: empty files instead.
: > "$run/empty"
for f in keys key-users; do if [ -e "/proc/$f" ]; then set -- --ro-bind "$run/empty" "/proc/$f" "$@"; fi; done
set -- --proc /proc --ro-bind /proc/sys /proc/sys \
  --ro-bind-try /proc/sysrq-trigger /proc/sysrq-trigger --ro-bind-try /proc/fs /proc/fs \
  --ro-bind-try /proc/acpi /proc/acpi --ro-bind-try /proc/scsi /proc/scsi \
  --dev /dev \
  --perms 0555 --tmpfs /sys --remount-ro /sys \
  --size "$tmpfs" --tmpfs /run --perms 01777 --dir /run/lock \
  --ro-bind "$here/sandbox-enter.sh" /run/vm-images/enter.sh \
  --ro-bind "$run/resolv.conf" /run/vm-images/resolv.conf \
  --unshare-pid --unshare-uts --unshare-ipc --unshare-cgroup-try --hostname localhost \
  "$@"
# The sandbox's /: the image (ROOT), or with VM_IMAGES_VIEW (a file of bwrap
# options, NUL-separated) the view of the build host they make, on bwrap's
# own empty root: mmdebstrap's sandbox (sandbox/hostview.ts).
if [ -n "${VM_IMAGES_VIEW:-}" ]; then exec 8<"$VM_IMAGES_VIEW"; set -- --args 8 "$@"; else set -- --bind "$root" / "$@"; fi
# bwrap starts from an empty environment: its --clearenv clears only the
# command's, and the sandbox's PID 1 (bwrap's own child) keeps bwrap's, which
# the guest's root reads in /proc/1/environ.
set -- env -i PATH="$PATH" bwrap "$@"

# No file larger than the build's bound (RLIMIT_FSIZE): the binds of the
# host's disk (apt's archive directory) hold no more either.
if [ -n "${VM_IMAGES_FILE_SIZE:-}" ]; then set -- prlimit --fsize="$VM_IMAGES_FILE_SIZE" "$@"; fi

# VM_IMAGES_SHARE_NET: the host's network instead (mmdebstrap's sandbox with
# a mirror on the host's loopback, which slirp4netns cannot reach).
if [ -n "${VM_IMAGES_SHARE_NET:-}" ]; then status=0; "$@" <&3 3<&- || status=$?; unmount || status=1; exit "$status"; fi

# The network policy (VM_IMAGES_NET: public, the default, mirror or none;
# VM_IMAGES_NET_MIRROR and VM_IMAGES_NET_ALLOW as sandbox-net.sh reads them):
# an nftables ruleset the namespace's first process loads before it becomes
# bwrap, which the guest cannot change (bwrap gives it no CAP_NET_ADMIN).
# `none` has no slirp4netns: only the namespace's own loopback, up.
net=${VM_IMAGES_NET:-public}
case $net in
  public | mirror) sh "$here/sandbox-net.sh" "$net" > "$run/net.nft" || { unmount; exit 1; } ;;
  none) : > "$run/net.nft" ;;
  *) echo "vm-images: unknown network policy $net" >&2; unmount; exit 2 ;;
esac

# A network namespace whose first process loads the policy, waits until
# slirp4netns has set up its interface, then becomes bwrap.
mkfifo "$run/go"
# shellcheck disable=SC2016
setpriv --pdeathsig KILL unshare --net --fork --kill-child -- /bin/sh -c \
  '[ ! -s "$3" ] || nft -f "$3" || exit 1; ip link set lo up; echo $$ > "$1"; read -r go < "$2"; [ "$go" = go ] || exit 1; shift 3; exec "$@"' \
  sh "$run/pid" "$run/go" "$run/net.nft" "$@" <&3 3<&- &
ns=$!
while [ ! -s "$run/pid" ]; do kill -0 "$ns" 2>/dev/null || { unmount; exit 1; }; sleep 0.01; done
slirp=
if [ "$net" != none ]; then
  setpriv --pdeathsig KILL slirp4netns --configure --mtu=65520 --disable-host-loopback \
    --enable-sandbox --enable-seccomp --ready-fd 3 "$(cat "$run/pid")" tap0 3>"$run/ready" >"$run/slirp.log" 2>&1 9<&- &
  slirp=$!
  while [ ! -s "$run/ready" ]; do
    kill -0 "$slirp" 2>/dev/null || { cat "$run/slirp.log" >&2; kill "$ns"; unmount; exit 1; }
    sleep 0.01
  done
fi
echo go > "$run/go"
status=0
wait "$ns" || status=$?
if [ -n "$slirp" ]; then kill "$slirp" 2>/dev/null || :; wait "$slirp" 2>/dev/null || :; fi

# After success: the .debs left in the archive directory go to the caller,
# which keeps only those a verified index lists (never trusted as they are:
# package scripts ran in this image).
if [ "$status" = 0 ] && [ -n "$cache" ] && [ -n "${VM_IMAGES_NEW_DEBS:-}" ]; then
  mkdir -p "$VM_IMAGES_NEW_DEBS"
  find "$run/archives" -maxdepth 1 -type f -name '*.deb' -exec mv -n -t "$VM_IMAGES_NEW_DEBS" -- {} + || :
fi
# And the package indexes the image's apt fetched that the cache lacks or
# has older, each only if the cache's InRelease (the build host's apt
# fetched it) gives its size and SHA256.
if [ "$status" = 0 ] && [ -n "${VM_IMAGES_APT_LISTS:-}" ]; then
  sh "$here/adopt-lists.sh" "$run/lists-out" "$VM_IMAGES_APT_LISTS" || :
fi
unmount || status=1
exit "$status"
