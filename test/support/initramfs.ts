// An image's initramfs next to the one its own mkinitramfs makes, as data:
// to show that how the build makes it leaves no trace in what it contains.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { partitionOffset, readDiskHead } from "../../provider/builder/boot/layout";
import { rawImage } from "./tree";

const execFileP = promisify(execFile);

// $1 raw disk, $2 partition offset, $3 mount point, $4 output directory.
// The image is mounted read-only; mkinitramfs writes into a tmpfs.
const SCRIPT = `set -e
mnt=$3 out=$4
mount -o ro,loop,offset="$2" "$1" "$mnt"
mount -t tmpfs tmpfs "$mnt/var/tmp"
mount -t proc proc "$mnt/proc"
mount --bind /dev "$mnt/dev"
set -- "$mnt"/boot/initrd.img-*
[ "$#" -eq 1 ] && [ -f "$1" ] || { echo "not one initramfs in /boot: $*" >&2; exit 1; }
version=\${1##*/initrd.img-}
cp "$1" "$out/built.img"
chroot "$mnt" mkinitramfs -o /var/tmp/own.img "$version" 2>"$out/mkinitramfs.err"
cp "$mnt/var/tmp/own.img" "$out/own.img"
for which in built own; do
  mkdir "$out/$which"
  if gzip -t "$out/$which.img" 2>/dev/null; then unpack="gzip -dc"; else unpack="zstd -dc"; fi
  (cd "$out/$which" && $unpack "../$which.img" | cpio -idm --quiet)
  (cd "$out/$which" && find . -printf '%p\\t%y\\t%m\\t%U\\t%G\\t%l\\n' | LC_ALL=C sort > "../$which.list"
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum > "../$which.sums")
done`;

export interface InitramfsPair {
  /** One line per path: type, mode, owner, group, link target. */
  built: string[];
  own: string[];
  builtSums: string;
  ownSums: string;
}

/** The image's /boot/initrd.img-* and one made by `mkinitramfs` in the image as it is, unpacked and listed. */
export async function initramfsPair(image: string): Promise<InitramfsPair> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-initramfs-"));
  try {
    const raw = await rawImage(image, tmp);
    const mnt = path.join(tmp, "mnt");
    const out = path.join(tmp, "out");
    fs.mkdirSync(mnt);
    fs.mkdirSync(out);
    await execFileP("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", SCRIPT, "initramfs",
      raw, String(partitionOffset(readDiskHead(raw))), mnt, out], { maxBuffer: 64 << 20 });
    const read = (f: string) => fs.readFileSync(path.join(out, f), "utf8");
    return {
      built: read("built.list").split("\n").filter(Boolean), own: read("own.list").split("\n").filter(Boolean),
      builtSums: read("built.sums"), ownSums: read("own.sums"),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
