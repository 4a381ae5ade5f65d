#!/bin/sh
# A UEFI boot loader made by the image's own GRUB (grub-mkimage of
# grub-efi-*-bin), run in the sandbox, with CONFIG embedded (the root file
# system found by UUID, its kernel booted) and the modules given; printed
# base64 on stdout. Its scratch files are on the sandbox's /run (a tmpfs):
# nothing of it stays in the image.
#
#   grub-efi-image.sh FORMAT CONFIG MODULE...
set -eu
format=$1 config=$2
shift 2
dir=$(mktemp -d -p /run)
printf '%s' "$config" > "$dir/grub.cfg"
# The prefix names the ESP's directory; nothing is read from it (no normal module).
grub-mkimage -O "$format" -p /EFI/BOOT -c "$dir/grub.cfg" -o "$dir/loader.efi" "$@"
base64 -w0 "$dir/loader.efi"
rm -rf "$dir"
