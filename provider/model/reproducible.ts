// What makes the direct backend's images reproducible, decided without a
// process: the file system's ids, the source date, and the debugfs commands
// that set what mke2fs -d and a loop mount leave to the clock.
import { sha256 } from "./hash";

/** A file system's fixed ids: its UUID, its directory hash seed, and the disk's MBR identifier. */
export interface FileSystemIds {
  uuid: string;
  hashSeed: string;
  /** 8 hex digits, sfdisk's `label-id`. */
  diskId: string;
}

function uuidOf(hex: string): string {
  // A version 4 layout (variant 10xx), so that tools that check the form accept it.
  const h = `${hex.slice(0, 12)}4${hex.slice(13, 16)}${((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 32)}`;
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The ids of an image's file system, from its file name: the same image
 * gets the same ids, whatever else changes. Not from the build key, which
 * changes with a no-op edit (a comment-only action, a `true`): its bytes
 * would change with it, and its children would be rebuilt for nothing.
 */
export function fileSystemIds(imageName: string): FileSystemIds {
  const uuid = sha256(`vm-images file system uuid\0${imageName}`);
  const seed = sha256(`vm-images directory hash seed\0${imageName}`);
  const disk = sha256(`vm-images disk id\0${imageName}`);
  return { uuid: uuidOf(uuid), hashSeed: uuidOf(seed), diskId: disk.slice(0, 8) };
}

/** A GPT disk's fixed ids: the disk's GUID, its two partitions' GUIDs, and the EFI system partition's FAT volume id. */
export interface GptIds {
  disk: string;
  esp: string;
  root: string;
  /** 8 hex digits, mkfs.fat's `-i`. */
  espVolumeId: string;
}

/** The ids of a UEFI-bootable image's partition table and EFI system partition, from its file name, as fileSystemIds. */
export function gptIds(imageName: string): GptIds {
  const of = (what: string) => sha256(`vm-images ${what}\0${imageName}`);
  return {
    disk: uuidOf(of("gpt disk guid")).toUpperCase(),
    esp: uuidOf(of("gpt esp guid")).toUpperCase(),
    root: uuidOf(of("gpt root guid")).toUpperCase(),
    espVolumeId: of("esp volume id").slice(0, 8),
  };
}

/** The `Date:` of a Release or InRelease file, in seconds since the epoch; undefined without one. */
export function releaseEpoch(release: string): number | undefined {
  const date = /^Date:\s*(.+?)\s*$/m.exec(release)?.[1];
  if (!date) return undefined;
  const ms = Date.parse(date.replace(/\bUTC$/, "GMT"));
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : undefined;
}

/** dumpe2fs's `Filesystem created:` line, the source date of a file system we made, in seconds. */
export function createdEpoch(dumpe2fsHeader: string): number | undefined {
  const date = /^Filesystem created:\s*(.+?)\s*$/m.exec(dumpe2fsHeader)?.[1];
  if (!date) return undefined;
  // dumpe2fs prints ctime(3)'s form in the time zone it runs in: it runs with TZ=UTC.
  const ms = Date.parse(`${date} GMT`);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : undefined;
}

/**
 * The inodes in use, from dumpe2fs's group listing (its "Free inodes:"
 * ranges, and the inodes per group): every inode of a group but its free
 * ones. The reserved inodes below the first (11) are left out but the root
 * directory's (2), whose times come from the source tree.
 */
export function usedInodes(dumpe2fs: string): number[] {
  const perGroup = Number(/^Inodes per group:\s*(\d+)/m.exec(dumpe2fs)?.[1]);
  if (!perGroup) throw new Error("dumpe2fs gave no inodes per group");
  const used: number[] = [];
  const groups = dumpe2fs.split(/^Group (\d+):/m);
  for (let i = 1; i < groups.length; i += 2) {
    const group = Number(groups[i]);
    const free = /^\s*Free inodes:(.*)$/m.exec(groups[i + 1])?.[1];
    if (free === undefined) throw new Error(`dumpe2fs gave no free inodes for group ${group}`);
    const freeSet = new Set<number>();
    for (const range of free.split(",").map((r) => r.trim()).filter(Boolean)) {
      const [a, b] = range.split("-").map(Number);
      for (let n = a; n <= (b ?? a); n++) freeSet.add(n);
    }
    for (let n = group * perGroup + 1; n <= (group + 1) * perGroup; n++) {
      if (!freeSet.has(n) && (n === 2 || n >= 11)) used.push(n);
    }
  }
  return used;
}

/** Files a bootable image's extlinux writes through a loop mount, after mke2fs -d: the clock's times, a random generation. */
export const BOOT_LOADER_FILES = ["/boot/extlinux", "/boot/extlinux/ldlinux.sys", "/boot/extlinux/ldlinux.c32"];

const TIMES = ["atime", "ctime", "mtime", "crtime"];

/**
 * debugfs's commands that set what the clock decided: every inode's change
 * time (mke2fs -d copies the source tree's, which the build's clock set;
 * access and modification times are clamped in the tree before), the boot
 * loader's files as a whole, and the superblock's mount and write records.
 */
export function clockFreeCommands(inodes: readonly number[], epoch: number, bootable: boolean): string {
  const lines = inodes.map((n) => `sif <${n}> ctime @${epoch}`);
  if (bootable) {
    for (const file of BOOT_LOADER_FILES) {
      for (const t of TIMES) lines.push(`sif ${file} ${t} @${epoch}`, `sif ${file} ${t}_extra 0`);
      lines.push(`sif ${file} version 0`, `sif ${file} generation 0`);
    }
  }
  lines.push("ssv mtime 0", `ssv wtime @${epoch}`, "ssv mnt_count 0", "ssv kbytes_written 0", "ssv lastcheck @" + epoch);
  return `${lines.join("\n")}\n`;
}
