// The direct backend's disks: an ext4 file system made in a disk file (from
// a directory with mke2fs -d, or empty), a bootable disk's partition table
// (an MBR, or a GPT for UEFI: boot/uefi.ts) and BIOS boot loader, a script
// of builder/sh/ run in a private mount namespace (so nothing stays mounted
// if the build is killed), and the finished raw disk as qcow2.
import * as fs from "node:fs";
import * as path from "node:path";
import { gptIds } from "../../../model/reproducible";
import { installMbrCode, PARTITION_OFFSET } from "../../boot/layout";
import { gptScript, UEFI_ROOT_OFFSET, uefiRootBytes } from "../../boot/uefi";
import type { BuildContext } from "../../run/steps";
import { type CommandError, MINUTE, run } from "../../run/exec";
import { hostScript } from "../../run/shell";
import type { BackendBuild } from "../backend";

/** Exit code of sh/prepare-parent-disk.sh and sh/bootstrap-disk.sh when a loop mount fails. */
export const NO_LOOP_MOUNT = 64;

export interface Layout {
  bootable: boolean;
  bytes: number;
  /** How a bootable disk starts: unset or "bios", an MBR and extlinux; "uefi", a GPT with an ESP (boot/uefi.ts). */
  firmware?: "bios" | "uefi";
}

/** Where a layout's root file system starts in its disk, in bytes. */
export function rootOffset(layout: Layout): number {
  if (!layout.bootable) return 0;
  return layout.firmware === "uefi" ? UEFI_ROOT_OFFSET : PARTITION_OFFSET;
}

/** A script of builder/sh/ run by bash, with `args` as "$1"..., in a private mount namespace. */
export function inMountNamespace(
  ctx: BuildContext, label: string, script: string, args: string[],
  opts: { env?: Record<string, string>; cleanEnv?: boolean; timeoutMs?: number; capture?: boolean } = {},
) {
  return run("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", hostScript(script), ...args], {
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: opts.timeoutMs ?? 30 * MINUTE,
    env: opts.env, cleanEnv: opts.cleanEnv, capture: opts.capture,
  });
}

/** Whether a command failed because loop mounts do not work here (as some containers have it). */
export function noLoopMount(err: unknown, ctx: BuildContext): boolean {
  return !ctx.signal.aborted && (err as CommandError).exitCode === NO_LOOP_MOUNT;
}

/** Remove a directory tree; `rm` is several times faster than Node's recursive delete on a root file system. */
export async function removeTree(dir: string, ctx: BuildContext): Promise<void> {
  if (!fs.existsSync(dir)) return;
  try {
    // Not interruptible: it is a cleanup, and runs after an interrupt too.
    await run("rm", ["-rf", "--one-file-system", "--", dir], { label: `${ctx.image} rm`, log: ctx.log, timeoutMs: 30 * MINUTE });
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The disk's ext4 file system, with the files of `root` (mke2fs -d) or empty; for a bootable layout, in an MBR or GPT partition. */
export async function makeFileSystem(disk: string, layout: Layout, root: string | undefined, ctx: BuildContext): Promise<void> {
  fs.rmSync(disk, { force: true });
  fs.writeFileSync(disk, "");
  fs.truncateSync(disk, layout.bytes);
  const mke2fs = (args: string[]) => run("mke2fs", ["-q", "-F", "-t", "ext4", ...(root ? ["-d", root] : []), ...args], {
    label: `${ctx.image} mke2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  if (!layout.bootable) {
    await mke2fs([disk]);
    return;
  }
  const uefi = layout.firmware === "uefi";
  // Not a block device: nothing for the kernel to reread (and no sync(2) of the whole host).
  await run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", disk], {
    label: `${ctx.image} sfdisk`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE,
    input: uefi ? gptScript(gptIds(ctx.image), layout.bytes) : `label: dos\nstart=${PARTITION_OFFSET / 512}, type=83, bootable\n`,
  });
  const offset = rootOffset(layout);
  const fsBytes = uefi ? uefiRootBytes(layout.bytes) : layout.bytes - PARTITION_OFFSET;
  await mke2fs(["-E", `offset=${offset}`, disk, `${Math.floor(fsBytes / 1024)}k`]);
}

/** extlinux into a bootable disk's file system (through a loop mount, or libguestfs where that fails), and the MBR code. */
export async function installBootloader(b: BackendBuild, disk: string, ctx: BuildContext): Promise<void> {
  const mnt = path.join(b.workDir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  try {
    await inMountNamespace(ctx, "extlinux", "extlinux-install.sh", [disk, String(PARTITION_OFFSET), mnt]);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const note = `no loop mount here (${(err as Error).message.split("\n")[0]}); falling back to libguestfs for extlinux`;
    ctx.log.line(ctx.image, note);
    ctx.progress?.warn(note);
    await run("guestfish", ["--format=raw", "-a", disk, "-m", "/dev/sda1", "--", "extlinux", "/boot/extlinux"], {
      label: `${ctx.image} guestfish`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE, env: b.guestfsEnv,
    });
  }
  installMbrCode(disk);
}

/** qemu-img's complaint when a file system refuses O_DIRECT: "filesystem does not support O_DIRECT". */
const DIRECT_IO_REFUSED = /O_DIRECT/;

/**
 * The finished raw disk as qcow2, flushed at the end. A derived image's
 * disk was just edited through loop mounts, and a qcow2 written through the
 * page cache right after takes long to flush: with O_DIRECT (-t none) 1.3-2.0
 * s against 2.4-6.0 s for a 1.5 GB disk here (the unmount leaves almost
 * nothing dirty, so it is not the disk's own write-back). A bootable root's
 * disk, converted after its boot check, goes faster through the page cache
 * (0.4 s against 1.0-1.2 s), and root disks keep it. Where the file system
 * refuses O_DIRECT, the page cache. In order (no -W): out-of-order writes
 * place the clusters in a different order each time, and the same disk
 * would give a different qcow2 file (about 0.8 s a GB more here).
 */
export async function convertToQcow2(disk: string, target: string, ctx: BuildContext, directIo: boolean): Promise<void> {
  const convert = (cache: string) => run("qemu-img", ["convert", "-t", cache, "-f", "raw", "-O", "qcow2", disk, target], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  if (!directIo) return void (await convert("writeback"));
  try {
    await convert("none");
  } catch (err) {
    if (ctx.signal.aborted || !DIRECT_IO_REFUSED.test((err as CommandError).stderrTail?.join("\n") ?? "")) throw err;
    ctx.log.line(ctx.image, "no O_DIRECT for the image's directory: qemu-img writes through the page cache");
    fs.rmSync(target, { force: true });
    await convert("writeback");
  }
}
