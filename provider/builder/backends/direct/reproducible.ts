// The direct backend's reproducible disks: the same inputs give the same
// bytes, whatever the build's directory, host name, time zone, umask or
// clock. A build edits its disk through loop mounts, where the kernel
// places blocks in no fixed order and the clock stamps every file; so the
// finished file system is made again from its files: what differs between
// builds and nothing needs emptied (sh/reproducible-clean.sh, in the
// sandbox), times clamped at the source date, mke2fs -d with fixed ids and
// a fake clock (sh/repack-disk.sh), the boot loader (extlinux, or a UEFI
// disk's ESP with GRUB: boot/uefi.ts), then debugfs for what mke2fs and the
// loop mount still took from the clock, and the journal.
import * as fs from "node:fs";
import * as path from "node:path";
import { clockFreeCommands, createdEpoch, fileSystemIds, gptIds, releaseEpoch, usedInodes } from "../../../model/reproducible";
import { debSources } from "../../../model/rootstage";
import { installMbrCode } from "../../boot/layout";
import { gptScript, makeEfiLoader, makeEsp, UEFI_ROOT_OFFSET, uefiRootBytes, writeEspInto } from "../../boot/uefi";
import { fetchInRelease } from "../../cache/rootstage";
import { MINUTE, run } from "../../run/exec";
import { hostScript, scriptText } from "../../run/shell";
import type { BuildContext, Step } from "../../run/steps";
import { hasShell, inChroot, type RootFs } from "../../sandbox/sandbox";
import type { BackendBuild } from "../backend";
import { inMountNamespace, installBootloader, type Layout, rootOffset } from "./disk";

/** mmdebstrap's mirror when the image names none. */
const DEFAULT_MIRROR = "http://deb.debian.org/debian";

/**
 * Where a root's suite's InRelease is: the mirror (mmdebstrap's default
 * when none is named) and the image's suite; for a mirror given as a
 * sources.list file (as mmdebstrap takes it), its first http(s) or file
 * source.
 */
function releaseSource(b: BackendBuild): { uri: string; suite: string } {
  const mirror = b.mirror ?? DEFAULT_MIRROR;
  if (!/^[a-z][a-z0-9+.-]*:/i.test(mirror) && fs.existsSync(mirror)) {
    const first = debSources(fs.readFileSync(mirror, "utf8")).find((s) => /^(https?|file):/i.test(s.uri));
    if (first) return first;
  }
  return { uri: mirror.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, "$1"), suite: b.suite };
}

/**
 * A root image's source date: the `Date:` of its suite's InRelease on the
 * mirror, the time of the archive its packages come from. Not the clock's
 * (two builds would differ) nor a setting (one more input to keep in step
 * with the archive): the mirror's state is already what decides the image.
 */
export async function rootSourceDate(b: BackendBuild, ctx: BuildContext): Promise<number> {
  const { uri, suite } = releaseSource(b);
  const { text, reason } = await fetchInRelease(uri, suite, b.mirror, ctx.signal);
  const epoch = text === undefined ? undefined : releaseEpoch(text);
  if (epoch === undefined) {
    throw new Error(`image ${JSON.stringify(ctx.image)}: no source date: ${reason ?? `the InRelease of ${suite} has no Date:`} (the mirror's Release date dates every file the build writes)`);
  }
  ctx.log.line(ctx.image, `source date ${epoch} (${new Date(epoch * 1000).toISOString()}, the Date: of ${suite}'s InRelease)`);
  return epoch;
}

/**
 * A derived image's source date: its parent's, which made its file system
 * at that time (mke2fs's creation time; any parent's, such as one built
 * elsewhere, is as good: it is a fact of the parent's bytes).
 */
export async function parentSourceDate(disk: string, offset: number, ctx: BuildContext): Promise<number> {
  const header = await run("dumpe2fs", ["-h", `${disk}?offset=${offset}`], {
    label: `${ctx.image} dumpe2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, env: { TZ: "UTC" }, capture: true,
  });
  const epoch = createdEpoch(header);
  if (epoch === undefined) throw new Error(`image ${JSON.stringify(ctx.image)}: the parent's file system gives no creation time`);
  ctx.log.line(ctx.image, `source date ${epoch} (${new Date(epoch * 1000).toISOString()}, the parent's file system's)`);
  return epoch;
}

/** What differs between builds and nothing needs, emptied in the image (sh/reproducible-clean.sh), in the sandbox. */
export async function cleanForRepack(root: RootFs, ctx: BuildContext): Promise<void> {
  if (!(await hasShell(root, ctx))) return;
  await inChroot(root, ["/bin/sh", "-c", scriptText("builder/sh/reproducible-clean.sh"), "sh"], ctx, { label: "clean" });
}

/** Where the image's files are: the build's disk (its file system at `offset`) or a directory. */
export type RepackSource = { disk: string; offset: number } | { tree: string };

/** repack-disk.sh's TABLE argument and those after it: no table, an MBR, or a GPT (its sfdisk script written to a file). */
function tableArgs(b: BackendBuild, layout: Layout): { table: string; more: string[] } {
  if (!layout.bootable) return { table: "0", more: [] };
  if (layout.firmware !== "uefi") return { table: "1", more: [] };
  const script = path.join(b.workDir, "gpt.sfdisk");
  fs.writeFileSync(script, gptScript(gptIds(b.image.name), layout.bytes));
  return { table: "gpt", more: [script, String(UEFI_ROOT_OFFSET), String(uefiRootBytes(layout.bytes) / 1024)] };
}

/**
 * The image's files into a new disk that replaces `disk`: same files, same
 * bytes. Raw disks are written sparse, as mke2fs leaves them. A
 * UEFI-bootable disk gets `loader` on its ESP.
 */
export async function repackDisk(b: BackendBuild, source: RepackSource, disk: string, layout: Layout, epoch: number, ctx: BuildContext, loader?: Buffer): Promise<void> {
  const ids = fileSystemIds(b.image.name);
  const uefi = layout.bootable && layout.firmware === "uefi";
  if (uefi && !loader) throw new Error(`image ${JSON.stringify(ctx.image)}: a UEFI-bootable disk needs its boot loader`);
  const fresh = `${disk}.repack`;
  const mnt = path.join(b.workDir, "repack-mnt");
  fs.mkdirSync(mnt, { recursive: true });
  const from = "tree" in source ? [source.tree, "0"] : [source.disk, String(source.offset)];
  const fake = { E2FSPROGS_FAKE_TIME: String(epoch) };
  try {
    const { table, more } = tableArgs(b, layout);
    const args = [...from, fresh, table, String(layout.bytes), String(epoch), ids.uuid, ids.hashSeed, ids.diskId, mnt, ...more];
    // Without root, only a directory (no loop mount, no namespace).
    if (process.getuid?.() === 0) await inMountNamespace(ctx, "repack", "repack-disk.sh", args);
    else await run("/bin/bash", [hostScript("repack-disk.sh"), ...args], { label: `${ctx.image} repack`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE });
    const fsPath = `${fresh}?offset=${rootOffset(layout)}`;
    if (uefi) {
      const esp = path.join(b.workDir, "esp.fat");
      try {
        await makeEsp(esp, loader!, gptIds(b.image.name), epoch, ctx);
        writeEspInto(fresh, esp);
      } finally {
        fs.rmSync(esp, { force: true });
      }
    } else if (layout.bootable) {
      await installBootloader(b, fresh, ctx);
      installMbrCode(fresh);
    }
    // Only extlinux writes loader files into the file system.
    await settleClock(b.workDir, fsPath, epoch, layout.bootable && !uefi, ctx);
    await run("tune2fs", ["-j", fsPath], { label: `${ctx.image} tune2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: 10 * MINUTE, env: fake });
    fs.renameSync(fresh, disk);
  } finally {
    fs.rmSync(fresh, { force: true });
  }
}

/**
 * What the clock still decided in a finished file system (`fsPath`, as
 * debugfs names it), set by debugfs: every used inode's change time, a
 * bootable image's loader files, the superblock's mount and write records.
 */
export async function settleClock(workDir: string, fsPath: string, epoch: number, bootable: boolean, ctx: BuildContext): Promise<void> {
  // Its group listing only (a few lines a group): not the log's.
  const groups = await run("/bin/sh", ["-c", 'exec dumpe2fs "$1" 2>&1 >"$2"', "sh", fsPath, path.join(workDir, "groups.txt")], {
    label: `${ctx.image} dumpe2fs`, log: ctx.log, signal: ctx.signal, timeoutMs: 5 * MINUTE,
  }).then(() => fs.readFileSync(path.join(workDir, "groups.txt"), "utf8"));
  const script = path.join(workDir, "clock-free.debugfs");
  fs.writeFileSync(script, clockFreeCommands(usedInodes(groups), epoch, bootable));
  // debugfs echoes each command: its errors only.
  await run("/bin/sh", ["-c", 'exec debugfs -w -f "$1" "$2" >/dev/null', "sh", script, fsPath], {
    label: `${ctx.image} debugfs`, log: ctx.log, signal: ctx.signal, timeoutMs: 10 * MINUTE, env: { E2FSPROGS_FAKE_TIME: String(epoch) },
  });
}

/**
 * The last step: what differs between builds emptied (in the sandbox), a
 * UEFI-bootable image's boot loader made by its own GRUB (in the sandbox),
 * then the disk made again from the files.
 */
export function repackStep(b: BackendBuild, disk: string, source: () => RootFs, layout: () => Layout): Step {
  return {
    name: "make disk again (mke2fs -d)",
    do: async (ctx) => {
      const root = source();
      await cleanForRepack(root, ctx);
      const shape = layout();
      const loader = shape.bootable && shape.firmware === "uefi" ? await makeEfiLoader(root, fileSystemIds(b.image.name).uuid, ctx) : undefined;
      const from = root.disk ? { disk: root.disk.file, offset: root.disk.offset } : { tree: root.dir };
      await repackDisk(b, from, disk, shape, ctx.sourceDateEpoch!, ctx, loader);
    },
  };
}
