// The boot layout of UEFI-bootable images (arm64): a GPT disk with an EFI
// system partition (FAT16, 32 MiB at 1 MiB) and the root's ext4 partition
// after it, to the disk's last MiB (the backup GPT's). The boot loader is
// the image's own GRUB (grub-efi-arm64-bin), made by its grub-mkimage in the
// sandbox with an embedded configuration that finds the root file system by
// UUID and boots the Debian kernel and initrd links; UEFI firmware starts it
// as the removable-media path, /EFI/BOOT/BOOTAA64.EFI. Every id is fixed
// (model/reproducible.ts): the same inputs give the same bytes.
import * as fs from "node:fs";
import * as path from "node:path";
import type { GptIds } from "../../model/reproducible";
import { MINUTE, run } from "../run/exec";
import { scriptText } from "../run/shell";
import type { BuildContext } from "../run/steps";
import { inChroot, type RootFs } from "../sandbox/sandbox";
import { GPT_TYPES } from "./layout";

const MIB = 1024 * 1024;

/** The EFI system partition: at 1 MiB, 32 MiB long (FAT16). */
export const ESP_OFFSET = MIB;
export const ESP_BYTES = 32 * MIB;

/** The root file system's partition starts after the ESP, at 33 MiB. */
export const UEFI_ROOT_OFFSET = ESP_OFFSET + ESP_BYTES;

/** What the disk keeps after the root partition: its last MiB, which holds the backup GPT. */
const TAIL_BYTES = MIB;

/** The root partition's size in bytes on a disk of `diskBytes`. */
export const uefiRootBytes = (diskBytes: number) => diskBytes - UEFI_ROOT_OFFSET - TAIL_BYTES;

/** The sfdisk script of a UEFI-bootable disk of `diskBytes`: the GPT, its ESP and root partition, with fixed GUIDs. */
export function gptScript(ids: GptIds, diskBytes: number): string {
  const rootBytes = uefiRootBytes(diskBytes);
  if (rootBytes < 64 * MIB) throw new Error(`a UEFI-bootable disk of ${diskBytes} bytes leaves no room for its root file system`);
  return [
    "label: gpt",
    `label-id: ${ids.disk}`,
    "unit: sectors",
    `start=${ESP_OFFSET / 512}, size=${ESP_BYTES / 512}, type=${GPT_TYPES.esp}, uuid=${ids.esp}, name="EFI system partition"`,
    `start=${UEFI_ROOT_OFFSET / 512}, size=${rootBytes / 512}, type=${GPT_TYPES.linux}, uuid=${ids.root}, name="root"`,
    "",
  ].join("\n");
}

/** The fstab of a UEFI-bootable image: its root file system by UUID, whatever the disk's controller names it. */
export const uefiFstab = (fsUuid: string) => `UUID=${fsUuid} / ext4 errors=remount-ro 0 1\n`;

/**
 * The configuration embedded in the boot loader: the root file system found
 * by UUID, the Debian kernel and initrd links on it, the console on the
 * first serial port (the virt machine's PL011, ttyAMA0). Run by GRUB's
 * rescue parser, with no menu (nothing to wait for); if it fails, GRUB finds
 * no normal module and stops at "grub rescue>".
 */
export function grubConfig(fsUuid: string): string {
  return [
    `search --no-floppy --fs-uuid --set=root ${fsUuid}`,
    `linux /vmlinuz root=UUID=${fsUuid} rw console=ttyAMA0 net.ifnames=0`,
    "initrd /initrd.img",
    "boot",
    "",
  ].join("\n");
}

/** The GRUB modules the boot loader is made of: GPT, ext4, search by UUID, the Linux loader and gzip (Debian's arm64 vmlinuz is compressed). */
export const GRUB_MODULES = ["part_gpt", "ext2", "search", "search_fs_uuid", "linux", "gzio", "boot", "echo"];

/** The removable-media path arm64 UEFI firmware starts, on the ESP. */
export const EFI_LOADER_PATH = "/EFI/BOOT/BOOTAA64.EFI";

/** The most the boot loader may be, base64 on stdout (GRUB with these modules is about 1 MB). */
const MAX_LOADER_BASE64 = 16 * MIB;

/**
 * The image's boot loader, made by the image's own grub-mkimage (an arm64
 * binary, run through binfmt_misc) in the sandbox (sh/grub-efi-image.sh),
 * with the configuration for its root file system embedded.
 */
export async function makeEfiLoader(root: RootFs, fsUuid: string, ctx: BuildContext): Promise<Buffer> {
  const out = await inChroot(root, ["/bin/sh", "-c", scriptText("builder/sh/grub-efi-image.sh"), "sh", "arm64-efi", grubConfig(fsUuid), ...GRUB_MODULES], ctx, {
    label: "grub-mkimage", capture: "quiet", captureLimit: MAX_LOADER_BASE64,
  });
  const loader = Buffer.from(out.trim(), "base64");
  // A PE/COFF image starts with "MZ".
  if (loader.length < 4096 || loader.toString("latin1", 0, 2) !== "MZ") {
    throw new Error(`image ${JSON.stringify(ctx.image)}: grub-mkimage gave no EFI boot loader (${loader.length} bytes)`);
  }
  ctx.log.line(ctx.image, `boot loader: GRUB for arm64-efi, ${loader.length} bytes, root file system UUID=${fsUuid}`);
  return loader;
}

/**
 * The ESP made in its own file, without a mount: mkfs.fat with its fixed
 * volume id (--invariant: no clock, no random), then the boot loader put
 * in by mtools, whose times are the source date (SOURCE_DATE_EPOCH).
 */
export async function makeEsp(file: string, loader: Buffer, ids: GptIds, epoch: number, ctx: BuildContext): Promise<void> {
  const efi = `${file}.efi`;
  fs.writeFileSync(efi, loader);
  fs.rmSync(file, { force: true });
  const opts = (label: string) => ({
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE,
    env: { SOURCE_DATE_EPOCH: String(epoch), MTOOLS_SKIP_CHECK: "1", TZ: "UTC" },
  });
  try {
    await run("mkfs.fat", ["--invariant", "-i", ids.espVolumeId, "-F", "16", "-n", "EFI", "-C", file, String(ESP_BYTES / 1024)], opts("mkfs.fat"));
    await run("mmd", ["-i", file, "::/EFI", "::/EFI/BOOT"], opts("mmd"));
    await run("mcopy", ["-i", file, efi, `::${EFI_LOADER_PATH}`], opts("mcopy"));
  } finally {
    fs.rmSync(efi, { force: true });
  }
}

/** Copy the ESP's file into a new disk at ESP_OFFSET, leaving its zero blocks unwritten (the disk stays sparse). */
export function writeEspInto(disk: string, esp: string): void {
  const data = fs.readFileSync(esp);
  if (data.length !== ESP_BYTES) throw new Error(`${path.basename(esp)}: ${data.length} bytes, not the ESP's ${ESP_BYTES}`);
  const fd = fs.openSync(disk, "r+");
  try {
    const chunk = 64 * 1024;
    for (let at = 0; at < data.length; at += chunk) {
      const piece = data.subarray(at, at + chunk);
      if (piece.some((byte) => byte !== 0)) fs.writeSync(fd, piece, 0, piece.length, ESP_OFFSET + at);
    }
  } finally {
    fs.closeSync(fd);
  }
}
