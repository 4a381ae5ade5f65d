// The direct backend's derived images: the parent's disk copied (qemu-img
// convert to raw) and grown if a size is set; apt-get install and the
// actions in the sandbox on its file system, loop-mounted read-only below an
// overlay for each command, and the changes written in at the end
// (changes.ts). As lvh and the guestfs backend do, the parent's file system
// is edited, not remade. Where loop mounts fail (some containers), the parent's files are
// copied out with libguestfs and a new file system is made, and the build
// says so.
import * as fs from "node:fs";
import * as path from "node:path";
import { resizeOf } from "../../../model/config";
import { readDiskHead, rootPartition, type RootPartition } from "../../boot/layout";
import { aptListsCacheDir, debCacheDir } from "../../cache/dirs";
import type { BuildContext, Step } from "../../run/steps";
import { MINUTE, run } from "../../run/exec";
import { aptInstall, type RootFs } from "../../sandbox/sandbox";
import type { BackendBuild } from "../backend";
import { convertParent } from "../parentdisk";
import { actionSteps } from "./actions";
import { inMountNamespace, type Layout, noLoopMount, removeTree } from "./disk";
import { parentSourceDate, repackStep } from "./reproducible";
import { applyChangesStep, changesDir, prepareChanges } from "./changes";

/** sfdisk on a disk file: not a block device, so nothing for the kernel to reread. */
function sfdisk(disk: string, ctx: BuildContext, args: string[], input?: string) {
  return run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", ...args, disk], {
    label: `${ctx.image} sfdisk`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, input,
  });
}

/**
 * A grown disk's root partition extended to its end: MBR partition 1, or a
 * GPT's root partition once its backup GPT has moved to the new end. The
 * file system's new size in bytes (a GPT keeps its disk's last MiB).
 */
async function growPartition(disk: string, part: RootPartition, ctx: BuildContext): Promise<number> {
  if (part.table === "gpt") await sfdisk(disk, ctx, ["--relocate", "gpt-bak-std"]);
  await sfdisk(disk, ctx, ["-N", String(part.number)], ",+\n");
  const grown = rootPartition(readDiskHead(disk));
  if (part.table === "gpt" && grown?.bytes) return grown.bytes;
  return fs.statSync(disk).size - part.offset;
}

/**
 * Copy the parent's disk as raw and grow it to the image's size: the disk,
 * the root partition of a bootable one (MBR or GPT), then its file system
 * (e2fsck and resize2fs). Returns the root partition (none: a file system
 * on the whole disk), and whether loop mounts work here.
 */
async function copyParentDisk(b: BackendBuild, disk: string, ctx: BuildContext): Promise<{ part?: RootPartition; loop: boolean }> {
  const parent = b.parentPath!;
  // -W (out-of-order writes): the same contents, several times faster here.
  // -t unsafe: no flush at the end; the copy is edited (through loop mounts,
  // which do not flush it either) before it becomes the image.
  await convertParent(parent, disk, "raw", ["-W", "-t", "unsafe"], ctx);
  const part = rootPartition(readDiskHead(disk));
  const offset = part?.offset ?? 0;
  const current = fs.statSync(disk).size;
  // As qemu-img resize reads image_size: "+2G" grows the parent's disk, "10G" is the new size.
  const resize = b.image.size ? resizeOf(b.image.size) : undefined;
  const wanted = resize ? (resize.grow ? current + resize.bytes : resize.bytes) : current;
  if (wanted < current) {
    throw new Error(`image_size ${b.image.size} is smaller than the parent's disk (${current} bytes); a derived image can only grow`);
  }
  let fsBytes = wanted - offset;
  if (wanted > current) {
    fs.truncateSync(disk, wanted);
    if (part) fsBytes = await growPartition(disk, part, ctx);
  }
  const mnt = path.join(b.workDir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  const grow = wanted > current;
  try {
    // Mounting also proves that loop mounts work here.
    await inMountNamespace(ctx, grow ? "resize2fs" : "mount", "prepare-parent-disk.sh", [disk, String(offset), mnt, grow ? "grow" : "keep", String(fsBytes)]);
  } catch (err) {
    if (!noLoopMount(err, ctx)) throw err;
    ctx.log.line(ctx.image, "no loop mount here; falling back to libguestfs to copy the parent's files");
    ctx.progress?.warn("no loop mount here; falling back to libguestfs to copy the parent's files");
    return { part, loop: false };
  }
  // resize2fs (1.47) cuts a disk file to the grown file system's size,
  // without the offset it was given: a partitioned disk loses its last
  // OFFSET bytes, and its file system no longer fits a loop device. It gets
  // its size back, and a GPT its backup table, which that cut, at the end.
  if (grow && part && fs.statSync(disk).size !== wanted) {
    fs.truncateSync(disk, wanted);
    if (part.table === "gpt") await sfdisk(disk, ctx, ["--relocate", "gpt-bak-std"]);
  }
  return { part, loop: true };
}

/** Where loop mounts fail: the parent's files out through libguestfs, into a directory. */
async function copyParentTree(b: BackendBuild, disk: string, part: RootPartition | undefined, tree: string, ctx: BuildContext): Promise<void> {
  const tarball = path.join(b.workDir, "parent.tar");
  fs.mkdirSync(tree, { recursive: true });
  await run("guestfish", ["--ro", "--format=raw", "-a", disk, "-m", part ? `/dev/sda${part.number}` : "/dev/sda", "--",
    "tar-out", "/", tarball, "numericowner:true", "xattrs:true"], {
    label: `${ctx.image} guestfish`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE, env: b.guestfsEnv,
  });
  await run("tar", ["--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", tree], {
    label: `${ctx.image} tar`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  fs.rmSync(tarball, { force: true });
  fs.rmSync(path.join(tree, "lost+found"), { recursive: true, force: true });
}

/**
 * The last step: the changes written into the parent's file system (its
 * blocks kept); where loop mounts fail, and the files are in a directory,
 * a new file system made from them.
 */
function lastStep(b: BackendBuild, disk: string, root: () => RootFs, layout: () => Layout, inTree: () => boolean): Step {
  const apply = applyChangesStep(b, disk, root);
  const repack = repackStep(b, disk, root, layout);
  return { name: apply.name, do: (ctx) => (inTree() ? repack.do(ctx) : apply.do(ctx)) };
}

export function derivedSteps(b: BackendBuild, disk: string): Step[] {
  const tree = path.join(b.workDir, "rootfs");
  // The parent's file system in the copied disk, or, where loop mounts fail, its files in a directory.
  const root: RootFs = { dir: path.join(b.workDir, "root") };
  let inTree = false;
  let part: RootPartition | undefined;
  return [
    {
      name: "copy parent disk (qemu-img convert)",
      do: async (ctx) => {
        const copied = await copyParentDisk(b, disk, ctx);
        part = copied.part;
        const offset = part?.offset ?? 0;
        // The source date of everything the build writes: the parent's (reproducible.ts).
        ctx.sourceDateEpoch = await parentSourceDate(disk, offset, ctx);
        fs.mkdirSync(root.dir, { recursive: true });
        if (copied.loop) {
          // Edited in place: the disk is read-only to every run, and their changes are written in at the end (changes.ts).
          await prepareChanges(changesDir(b), fs.statSync(disk).size, ctx);
          root.disk = { file: disk, offset, changes: changesDir(b) };
          return;
        }
        await copyParentTree(b, disk, part, tree, ctx);
        root.dir = tree;
        inTree = true;
      },
      cleanup: (ctx) => removeTree(tree, ctx),
    },
    {
      name: "install packages (apt-get in sandbox)",
      do: (ctx) => aptInstall(root, b.image.packages, { debs: debCacheDir(b.cacheDir), aptLists: aptListsCacheDir(b.cacheDir) }, ctx),
    },
    ...actionSteps(b, root),
    // Made again only where loop mounts fail: a GPT parent's disk as a UEFI-bootable one.
    lastStep(b, disk, () => root, () => ({ bootable: part !== undefined, firmware: part?.table === "gpt" ? "uefi" : "bios", bytes: fs.statSync(disk).size }), () => inTree),
  ];
}
