// A file system's tree as data, to compare images built different ways:
// every path with its type, owner, group, mode, symlink target and content hash.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { partitionOffset, readDiskHead } from "../../provider/builder/boot/layout";

const execFileP = promisify(execFile);

export interface Entry {
  type: string;
  uid: string;
  gid: string;
  mode: string;
  target: string;
  sha256?: string;
}

const SCRIPT = `set -e
mount -o ro,loop,offset="$2" "$1" "$3"
cd "$3"
find . -xdev -printf '%p\\t%y\\t%U\\t%G\\t%m\\t%l\\n'
echo '::sums::'
find . -xdev -type f -print0 | xargs -0 -r sha256sum
cd /
umount "$3"`;

/** The image itself when raw; a qcow2 image converted to tmp/disk.raw. */
export async function rawImage(image: string, tmp: string): Promise<string> {
  if (!image.endsWith(".qcow2")) return image;
  const raw = path.join(tmp, "disk.raw");
  await execFileP("qemu-img", ["convert", "-f", "qcow2", "-O", "raw", image, raw]);
  return raw;
}

/** Read the tree of a raw or qcow2 image through a read-only loop mount in a private mount namespace. */
export async function imageTree(image: string): Promise<Map<string, Entry>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "vm-images-tree-"));
  try {
    const raw = await rawImage(image, tmp);
    const sector = readDiskHead(raw);
    const mnt = path.join(tmp, "mnt");
    fs.mkdirSync(mnt);
    const { stdout } = await execFileP("unshare", ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", SCRIPT, "tree",
      raw, String(partitionOffset(sector)), mnt], { maxBuffer: 256 << 20 });
    const [list, sums] = stdout.split("::sums::\n");
    const tree = new Map<string, Entry>();
    for (const line of list.split("\n").filter(Boolean)) {
      const [p, type, uid, gid, mode, target] = line.split("\t");
      tree.set(p.replace(/^\./, "") || "/", { type, uid, gid, mode, target });
    }
    for (const line of sums.split("\n").filter(Boolean)) {
      const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
      if (m) tree.get(m[2].replace(/^\./, ""))!.sha256 = m[1];
    }
    return tree;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Paths that differ between any two builds, whatever builds them: logs,
 * caches and package lists fetched at different moments, machine ids, random
 * seeds, backup files written with the time, and extlinux's ldlinux.sys
 * (patched with its own disk location); and between the backends,
 * /etc/shadow, whose days of the last password change are the source
 * date's with the direct backend and the build's with guestfs.
 * docs/building.md lists the same.
 */
export const VOLATILE = [
  /^\/var\/log\//,
  /^\/var\/cache\//,
  /^\/var\/lib\/apt\/lists\//,
  /^\/var\/lib\/dpkg\/[^/]*-old$/,
  /^\/etc\/machine-id$/,
  /^\/var\/lib\/dbus\/machine-id$/,
  /^\/var\/lib\/systemd\/random-seed$/,
  /^\/etc\/(shadow|gshadow|passwd|group|subuid|subgid)-$/,
  /^\/tmp\//,
  /^\/lost\+found$/,
  /^\/boot\/extlinux\/ldlinux\.sys$/,
  /^\/etc\/shadow$/,
];

/** Differences between two trees, outside the paths `volatile` matches. */
export function treeDiff(a: Map<string, Entry>, b: Map<string, Entry>, volatile: RegExp[]): string[] {
  const out: string[] = [];
  const skip = (p: string) => volatile.some((re) => re.test(p));
  for (const [p, ea] of a) {
    if (skip(p)) continue;
    const eb = b.get(p);
    if (!eb) out.push(`only in the first: ${p}`);
    else if (JSON.stringify(ea) !== JSON.stringify(eb)) out.push(`differs: ${p} ${JSON.stringify(ea)} vs ${JSON.stringify(eb)}`);
  }
  for (const p of b.keys()) if (!skip(p) && !a.has(p)) out.push(`only in the second: ${p}`);
  return out;
}
