// The boot layout of BIOS-bootable images, the same in both backends: an
// MBR partition table with one ext4 partition at 1 MiB, extlinux following
// the Debian kernel and initrd links, and SYSLINUX's MBR boot code. Also
// where any disk's root file system is: in that MBR partition, in the Linux
// partition of a GPT (UEFI-bootable images, boot/uefi.ts), or on the whole
// disk.
import * as fs from "node:fs";
import * as path from "node:path";

/** Where SYSLINUX's MBR boot code lives on Debian hosts (package syslinux-common). */
export const SYSLINUX_MBR = "/usr/lib/syslinux/mbr/mbr.bin";

/** The first partition of bootable images starts at 1 MiB, as guestfish's part-add 2048 puts it. */
export const PARTITION_OFFSET = 2048 * 512;

/** Boot loader configuration of bootable images: the Debian kernel and initrd links, root on the first partition. */
export const EXTLINUX_CONF = `DEFAULT linux
TIMEOUT 0
PROMPT 0
SERIAL 0 115200
LABEL linux
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=/dev/sda1 rw console=ttyS0,115200 net.ifnames=0
`;

export const FSTAB = "/dev/sda1 / ext4 errors=remount-ro 0 1\n";

/**
 * Write a bootable image's fstab and extlinux.conf into a root directory, as
 * guestfish writes them; with `fstab`, a UEFI-bootable image's, and no
 * extlinux.conf (its boot loader is GRUB's, on its ESP).
 */
export function writeBootConfig(root: string, fstab?: string): void {
  if (fstab !== undefined) return fs.writeFileSync(path.join(root, "etc", "fstab"), fstab);
  fs.writeFileSync(path.join(root, "etc", "fstab"), FSTAB);
  fs.mkdirSync(path.join(root, "boot", "extlinux"), { recursive: true });
  fs.writeFileSync(path.join(root, "boot", "extlinux", "extlinux.conf"), EXTLINUX_CONF);
}

/** Write the 440 bytes of MBR boot code to a raw disk; the partition table after them stays. */
export function installMbrCode(disk: string): void {
  const mbr = fs.readFileSync(SYSLINUX_MBR).subarray(0, 440);
  const fd = fs.openSync(disk, "r+");
  try {
    fs.writeSync(fd, mbr, 0, mbr.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

/** How much of a disk's start holds its partition tables: the MBR, and a GPT's header and 128 entries. */
export const DISK_HEAD_BYTES = 34 * 512;

/** The start of a raw disk image: its MBR and, on a GPT disk, the GPT's header and entries. */
export function readDiskHead(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(DISK_HEAD_BYTES);
    fs.readSync(fd, buf, 0, buf.length, 0);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** GPT partition type GUIDs, as sfdisk and the UEFI specification spell them. */
export const GPT_TYPES = {
  esp: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
  linux: "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
} as const;

/** The root file system's partition on a disk: its table, its number (sfdisk -N), where it starts and (on a GPT) its size, in bytes. */
export interface RootPartition {
  table: "mbr" | "gpt";
  number: number;
  offset: number;
  bytes?: number;
}

/** A GUID as text, from its 16 bytes in the GPT's mixed-endian order. */
export function guidText(b: Buffer): string {
  const hex = (x: Buffer) => x.toString("hex");
  const le = (x: Buffer) => hex(Buffer.from(x).reverse());
  return [le(b.subarray(0, 4)), le(b.subarray(4, 6)), le(b.subarray(6, 8)), hex(b.subarray(8, 10)), hex(b.subarray(10, 16))].join("-").toUpperCase();
}

/**
 * A GPT disk's root partition, from its disk head: the first Linux file
 * system partition of the entries at LBA 2 (where sfdisk and every tool
 * we know put them). Undefined without a GPT header ("EFI PART" at LBA 1).
 */
function gptRoot(head: Buffer): RootPartition | undefined {
  const header = head.subarray(512, 1024);
  if (header.toString("latin1", 0, 8) !== "EFI PART") return undefined;
  const entriesAt = Number(header.readBigUInt64LE(72)) * 512;
  const count = header.readUInt32LE(80);
  const size = header.readUInt32LE(84);
  for (let i = 0; i < count && size >= 56 && entriesAt + (i + 1) * size <= head.length; i++) {
    const entry = head.subarray(entriesAt + i * size, entriesAt + (i + 1) * size);
    if (guidText(entry.subarray(0, 16)) !== GPT_TYPES.linux) continue;
    const first = Number(entry.readBigUInt64LE(32));
    const last = Number(entry.readBigUInt64LE(40));
    return { table: "gpt", number: i + 1, offset: first * 512, bytes: (last - first + 1) * 512 };
  }
  return undefined;
}

/**
 * Where a disk's root file system is, from its head (readDiskHead): MBR
 * partition 1 of a BIOS-bootable disk, the Linux file system partition of a
 * GPT (behind its protective MBR, type 0xEE), or undefined for a file
 * system on the whole disk (a non-bootable image): no boot signature, or an
 * empty first partition entry.
 */
export function rootPartition(head: Buffer): RootPartition | undefined {
  if (head[510] !== 0x55 || head[511] !== 0xaa || head[446 + 4] === 0) return undefined;
  if (head[446 + 4] === 0xee) return gptRoot(head);
  return { table: "mbr", number: 1, offset: head.readUInt32LE(446 + 8) * 512 };
}

/** Where a disk's root file system starts, in bytes (rootPartition), or 0 for a file system on the whole disk. */
export function partitionOffset(head: Buffer): number {
  return rootPartition(head)?.offset ?? 0;
}
