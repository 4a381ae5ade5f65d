# shellcheck shell=dash
# Sourced by mkinitramfs while the build makes the image's initramfs (from
# /usr/share/initramfs-tools/conf-hooks.d, which mkinitramfs reads into its
# own shell but, unlike conf.d, does not copy into the initramfs), removed
# right after. Not part of any image.
#
# mkinitramfs spends most of its time starting processes: per kernel module
# it asks `realpath -ms` and `readlink -f /bin` (about 5,000 times each for
# bookworm's kernel) and `mkdir -p` of a directory it mostly made already.
# These functions answer the calls whose answer needs no lookup beyond a
# test of the file system, and hand every other call to the program itself
# with the same arguments: an absolute path with no empty, `.` or `..`
# component is its own canonical name, and its own target when none of its
# prefixes is a symbolic link.

# The target of /bin, looked up once: mkinitramfs does not change the system.
__vm_images_bin=$(command readlink -f /bin) || __vm_images_bin=

# Whether $1 is an absolute path with no empty, "." or ".." component (nor a trailing slash).
__vm_images_plain() {
  case $1 in
    /*/ | *//* | */./* | */../* | */. | */..) return 1 ;;
    /?*) return 0 ;;
    *) return 1 ;;
  esac
}

realpath() {
  local p
  if [ $# -eq 2 ] && { [ "$1" = -ms ] || [ "$1" = -s ]; }; then
    # realpath reads any run of leading slashes as one.
    p=$2
    while :; do case $p in //*) p=${p#/} ;; *) break ;; esac; done
    # -s: no link is followed; -m: nothing need exist (without it, the existing path is its own answer).
    if __vm_images_plain "$p" && { [ "$1" = -ms ] || [ -e "$p" ]; }; then
      printf '%s\n' "$p"
      return 0
    fi
  fi
  command realpath "$@"
}

readlink() {
  local q
  if [ $# -eq 2 ] && [ "$1" = -f ]; then
    if [ "$2" = /bin ] && [ -n "$__vm_images_bin" ]; then
      printf '%s\n' "$__vm_images_bin"
      return 0
    fi
    if __vm_images_plain "$2" && [ -e "$2" ]; then
      q=$2
      while [ -n "$q" ] && [ ! -L "$q" ]; do q=${q%/*}; done
      if [ -z "$q" ]; then
        printf '%s\n' "$2"
        return 0
      fi
    fi
  fi
  command readlink "$@"
}

mkdir() {
  if [ $# -eq 2 ] && [ "$1" = -p ] && [ -d "$2" ]; then return 0; fi
  command mkdir "$@"
}

# Under emulation (an image for another architecture, each of whose programs
# starts an emulator) the processes left cost more than all else: a `cp` and
# a `modinfo` per kernel module. The build asks for the two shortcuts below
# by naming an empty directory of the image (from / of the image, where the
# initramfs is built) in VM_IMAGES_INITRAMFS_TMP; without it they are off.
__vm_images_tmp=
case ${VM_IMAGES_INITRAMFS_TMP:-} in
  /*) if [ -d "$VM_IMAGES_INITRAMFS_TMP" ] && [ -w "$VM_IMAGES_INITRAMFS_TMP" ]; then __vm_images_tmp=$VM_IMAGES_INITRAMFS_TMP; fi ;;
esac
unset VM_IMAGES_INITRAMFS_TMP

# modinfo -k VERSION -F firmware MODULE, asked once per module copied: the
# firmware of every module of the kernel mkinitramfs builds for ($1 here:
# mkinitramfs reads this file with its version as its only argument), read
# with one modinfo over all of them and kept as a shell function. Modules
# not among them, and any other call, go to modinfo itself. When anything
# of the reading fails, or a name would need quoting, there is no function.
__vm_images_kver=
__vm_images_nl='
'
if [ -n "$__vm_images_tmp" ] && [ $# -eq 1 ]; then
  case $1 in
    */* | *"$__vm_images_nl"* | "" | . | ..) ;;
    *)
      # shellcheck disable=SC2033 # the program, not the function below, is meant
      if [ -d "/lib/modules/$1" ] && [ ! -L "/lib/modules/$1" ] \
        && __vm_images_def=$({ command find "/lib/modules/$1" -type f -name '*.ko*' -exec modinfo -k "$1" {} + \
          || echo 'vm-images: modinfo failed'; } | command awk '
            $0 == "vm-images: modinfo failed" { bad = 1 }
            substr($0, 1, 16) == "filename:       " { file = substr($0, 17); if (index(file, "\047")) bad = 1; next }
            substr($0, 1, 16) == "firmware:       " {
              if (file == "" || index($0, "\047")) bad = 1
              fw[file] = fw[file] " \047" substr($0, 17) "\047"
              if (!(file in seen)) { seen[file] = 1; order[++n] = file }
            }
            END {
              if (bad) exit 1
              print "__vm_images_firmware() {"
              print "  case $1 in"
              for (i = 1; i <= n; i++) print "    \047" order[i] "\047) printf \"%s\\n\"" fw[order[i]] " ;;"
              print "  esac"
              print "}"
            }') && eval "$__vm_images_def"; then
        __vm_images_kver=$1
      fi
      unset __vm_images_def ;;
  esac
fi

# shellcheck disable=SC2032 # find, above, is to run the program
modinfo() {
  local m q
  if [ -n "$__vm_images_kver" ] && [ $# -eq 5 ] && [ "$1" = -k ] && [ "$2" = "$__vm_images_kver" ] \
    && [ "$3" = -F ] && [ "$4" = firmware ]; then
    m=$5
    case $m in
      "/lib/modules/$__vm_images_kver/"*.ko*)
        # A file find listed: a regular file, not a link, reached without a link below the version's directory.
        if __vm_images_plain "$m" && [ -f "$m" ] && [ ! -L "$m" ]; then
          q=${m%/*}
          while [ "$q" != "/lib/modules/$__vm_images_kver" ] && [ ! -L "$q" ]; do q=${q%/*}; done
          if [ "$q" = "/lib/modules/$__vm_images_kver" ]; then
            __vm_images_firmware "$m"
            return 0
          fi
        fi ;;
    esac
  fi
  command modinfo "$@"
}

# cp -pP SOURCE DESTDIR/SOURCE, mkinitramfs's copy of each file it takes
# as it is (copy_file): an empty file is made in its place at once (tests of
# whether it was copied answer as before) and the source is written down;
# one `cp -pP --parents` copies all of them into DESTDIR when anything might
# read there, before any other cp, find (of DESTDIR), the hooks (run_scripts
# asks `sh -n` and tsort first), depmod, ldconfig or cpio. A file that is no
# longer the empty one made (something wrote there since) is left as it is.
__vm_images_pending=${__vm_images_tmp:+$__vm_images_tmp/pending}

__vm_images_flush() {
  local f
  if [ -z "$__vm_images_pending" ] || [ ! -s "$__vm_images_pending" ]; then return 0; fi
  while IFS= read -r f; do
    if [ -f "$DESTDIR$f" ] && [ ! -L "$DESTDIR$f" ] && [ ! -s "$DESTDIR$f" ]; then printf '%s\n' "$f"; fi
  done < "$__vm_images_pending" > "$__vm_images_pending.now"
  if [ -s "$__vm_images_pending.now" ] \
    && ! command xargs -r -d '\n' -a "$__vm_images_pending.now" cp -pP --parents -t "$DESTDIR" --; then
    echo "E: mkinitramfs shortcuts: the files of $__vm_images_pending.now were not copied" >&2
    # In a command substitution as well as in mkinitramfs itself: it exits on TERM.
    kill -TERM $$
    exit 1
  fi
  : > "$__vm_images_pending"
}

cp() {
  if [ -n "$__vm_images_pending" ] && [ -n "${DESTDIR:-}" ] && [ $# -eq 3 ] && [ "$1" = -pP ] \
    && { [ "$3" = "$DESTDIR/$2" ] || [ "$3" = "$DESTDIR$2" ]; } && __vm_images_plain "$2" \
    && __vm_images_plain "$DESTDIR"; then
    case $2 in
      *"$__vm_images_nl"*) ;;
      *)
        if [ -f "$2" ] && [ ! -L "$2" ] && [ ! -e "$3" ] && [ ! -L "$3" ] && [ -d "${3%/*}" ] \
          && printf '' 2>/dev/null > "$3"; then
          printf '%s\n' "$2" >> "$__vm_images_pending" && return 0
          rm -f -- "$3"
        fi ;;
    esac
  fi
  __vm_images_flush
  command cp "$@"
}

find() {
  case "$PWD/ $*" in
    *"${DESTDIR:-/nonexistent/}"*) __vm_images_flush ;;
  esac
  command find "$@"
}

sh() { __vm_images_flush; command sh "$@"; }
tsort() { __vm_images_flush; command tsort "$@"; }
depmod() { __vm_images_flush; command depmod "$@"; }
ldconfig() { __vm_images_flush; command ldconfig "$@"; }
cpio() { __vm_images_flush; command cpio "$@"; }
