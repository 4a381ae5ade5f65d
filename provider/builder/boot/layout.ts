// The boot layout of bootable images, the same in both backends: an MBR
// partition table with one ext4 partition at 1 MiB, extlinux following the
// Debian kernel and initrd links, and SYSLINUX's MBR boot code.
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

/** Write a bootable image's fstab and extlinux.conf into a root directory, as guestfish writes them. */
export function writeBootConfig(root: string): void {
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

/** The first 512 bytes of a raw disk image. */
export function readSector0(file: string): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.alloc(512);
    fs.readSync(fd, buf, 0, 512, 0);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where the first partition of an MBR disk starts, in bytes, or 0 for a file
 * system on the whole disk (a non-bootable image): no boot signature, or an
 * empty first partition entry.
 */
export function partitionOffset(sector0: Buffer): number {
  if (sector0[510] !== 0x55 || sector0[511] !== 0xaa || sector0[446 + 4] === 0) return 0;
  return sector0.readUInt32LE(446 + 8) * 512;
}
