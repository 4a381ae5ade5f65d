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
