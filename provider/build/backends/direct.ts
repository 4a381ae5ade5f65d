// The direct backend: the same images as the guestfs backend, without a VM.
//
//   root image:    as root, mmdebstrap straight into the new disk's empty
//                  file system, loop-mounted (for a bootable image: in an MBR
//                  partition, then extlinux through a loop mount and the MBR
//                  code); that disk, after package installation, kept in the
//                  per-user cache (incremental roots: an image whose actions
//                  alone change starts from it); the actions in a chroot on
//                  its loop-mounted file system; qemu-img convert for qcow2.
//                  Without root, or where loop mounts fail: mmdebstrap into a
//                  directory, the actions on it, then mke2fs -d.
//   derived image: the parent's disk copied (qemu-img convert to raw) and
//                  grown if a size is set; apt-get install and the actions in
//                  a chroot on its file system, loop-mounted for each
//                  command; qemu-img convert for qcow2. As lvh and the guestfs
//                  backend do, the parent's file system is edited, not remade.
//
// Loop mounts run in private mount namespaces, so nothing stays mounted if
// the build is killed. Where loop mounts fail (some containers), a derived
// image falls back to copying the parent's files out with libguestfs and
// making a new file system, and says so. As root, what writes into the disk
// (mmdebstrap, apt, the actions) runs with fsync and its kin as no-ops
// (../nosync.ts).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { resizeOf, rootSizeBytes } from "../../model/config";
import { DEFAULT_SIZE, imageFormat, isBootable } from "../../model/image";
import { rootStageKey, type StageIndex } from "../../model/rootstage";
import { splitUrlCredentials } from "../../model/urlcredentials";
import { actionContext } from "../actioncontext";
import { installMbrCode, PARTITION_OFFSET, partitionOffset, readSector0, writeBootConfig } from "../boot";
import { aptListsCacheDir, debCacheDir } from "../cache";
import { aptInstall, applyAction, type RootFs } from "../chroot";
import { type CommandError, MINUTE, run } from "../exec";
import { FileCache } from "../filecache";
import { bootstrapCommand, hook } from "../mmdebstrap";
import { noSyncEnv } from "../nosync";
import { readStageIndexes, staleIndex } from "../rootstage";
import type { BuildContext, Step } from "../pipeline";
import { hostScript } from "../shell";
import type { Backend, BackendBuild } from "./backend";

/** Exit code of sh/prepare-parent-disk.sh and sh/bootstrap-disk.sh when a loop mount fails. */
const NO_LOOP_MOUNT = 64;

/** A script of build/sh/, with `args` as "$1"..., in a private mount namespace. */
const ns = (ctx: BuildContext, label: string, script: string, args: string[]) =>
  run("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", hostScript(script), ...args], {
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });

/** Remove a directory tree; `rm` is several times faster than Node's recursive delete on a root file system. */
async function removeTree(dir: string): Promise<void> {
  try {
    await promisify(execFile)("rm", ["-rf", "--one-file-system", "--", dir]);
  } catch {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Layout {
  bootable: boolean;
  bytes: number;
}

/** The disk's ext4 file system, with the files of `root` (mke2fs -d) or empty; for a bootable layout, in an MBR partition. */
async function makeFileSystem(disk: string, layout: Layout, root: string | undefined, ctx: BuildContext): Promise<void> {
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
  // Not a block device: nothing for the kernel to reread (and no sync(2) of the whole host).
  await run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", disk], {
    label: `${ctx.image} sfdisk`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE,
    input: `label: dos\nstart=${PARTITION_OFFSET / 512}, type=83, bootable\n`,
  });
  await mke2fs(["-E", `offset=${PARTITION_OFFSET}`, disk, `${Math.floor((layout.bytes - PARTITION_OFFSET) / 1024)}k`]);
}

/** extlinux into a bootable disk's file system (through a loop mount, or libguestfs where that fails), and the MBR code. */
async function installBootloader(b: BackendBuild, disk: string, ctx: BuildContext): Promise<void> {
  const mnt = path.join(b.workDir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  try {
    await ns(ctx, "extlinux", "extlinux-install.sh", [
      disk, String(PARTITION_OFFSET), mnt,
    ]);
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

/** mke2fs -d the root directory into the disk, bootable (MBR, partition, extlinux) or not. */
async function makeDisk(b: BackendBuild, root: string, disk: string, layout: Layout, ctx: BuildContext): Promise<void> {
  await makeFileSystem(disk, layout, root, ctx);
  if (layout.bootable) await installBootloader(b, disk, ctx);
}

/**
 * The kernel's postinst and a dpkg trigger each build the initramfs (about
 * 30 s apiece here): divert update-initramfs while packages install, and
 * build the initramfs once afterwards.
 */
const ONE_INITRAMFS_HOOKS = [hook("essential", "defer-initramfs"), hook("customize", "build-initramfs")];

/**
 * No fsync per file while dpkg unpacks: the directory is packed into a new
 * disk afterwards, so a crash midway loses nothing. Only while building:
 * mmdebstrap's --dpkgopt would leave it in the image.
 */
const UNSAFE_IO_HOOKS = [hook("setup", "unsafe-io-on"), hook("customize", "unsafe-io-off")];

/**
 * The options of our hooks: no fsync while unpacking and, for a bootable
 * image, one initramfs and the boot configuration (fstab, extlinux.conf).
 */
function bootstrapHooks(b: BackendBuild, bootable: boolean): string[] {
  if (!bootable) return UNSAFE_IO_HOOKS;
  const config = path.join(b.workDir, "boot-config");
  fs.mkdirSync(path.join(config, "etc"), { recursive: true });
  writeBootConfig(config);
  return [...UNSAFE_IO_HOOKS, ...ONE_INITRAMFS_HOOKS, hook("customize", "boot-config", config)];
}

/** mmdebstrap into `tree`, with the image's packages (and the kernel of a bootable image). */
async function bootstrapTree(b: BackendBuild, tree: string, bootable: boolean, ctx: BuildContext): Promise<void> {
  const { cmd, args, env } = bootstrapCommand(b, tree, bootable, bootstrapHooks(b, bootable));
  await run(cmd, args, { label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE, env });
}

function bootstrapStep(b: BackendBuild, tree: string, bootable: boolean): Step {
  return {
    name: "bootstrap root file system (mmdebstrap)",
    do: (ctx) => bootstrapTree(b, tree, bootable, ctx),
    cleanup: () => removeTree(tree),
  };
}

/** Where the root's sources.list and the InRelease files its apt read are copied (mmdebstrap-hook.sh stage-sources). */
const stageSourcesDir = (b: BackendBuild) => path.join(b.workDir, "stage-sources");

/**
 * mmdebstrap straight into the new disk's empty file system, loop-mounted
 * (sh/bootstrap-disk.sh): no directory to pack with mke2fs -d and remove
 * afterwards, about 5 s of a root build here. Returns false where loop
 * mounts fail (nothing was installed; the disk is made again afterwards).
 */
async function bootstrapDisk(b: BackendBuild, disk: string, layout: Layout, ctx: BuildContext): Promise<boolean> {
  await makeFileSystem(disk, layout, undefined, ctx);
  const mnt = path.join(b.workDir, "target");
  fs.mkdirSync(mnt, { recursive: true });
  const hooks = [...bootstrapHooks(b, layout.bootable), hook("extract", "stage-sources", stageSourcesDir(b))];
  const { args, env } = bootstrapCommand(b, mnt, layout.bootable, hooks, true);
  const offset = String(layout.bootable ? PARTITION_OFFSET : 0);
  try {
    await run("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", hostScript("bootstrap-disk.sh"), disk, offset, mnt, "mmdebstrap", ...args], {
      label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE,
      env: { ...env, ...noSyncEnv(b.workDir) },
    });
  } catch (err) {
    if (ctx.signal.aborted || (err as CommandError).exitCode !== NO_LOOP_MOUNT) throw err;
    return false;
  }
  if (layout.bootable) await installBootloader(b, disk, ctx);
  return true;
}

function rootSteps(b: BackendBuild, disk: string): Step[] {
  const tree = path.join(b.workDir, "rootfs");
  const layout: Layout = { bootable: isBootable(b.image), bytes: rootSizeBytes(b.image.size ?? DEFAULT_SIZE) };
  const makeDiskStep: Step = { name: "make disk (mke2fs -d)", do: (ctx) => makeDisk(b, tree, disk, layout, ctx) };
  // Without root: in a directory, the actions on it, then mke2fs -d.
  if (process.getuid?.() !== 0) return [bootstrapStep(b, tree, layout.bootable), ...actionSteps(b, { dir: tree }), makeDiskStep];
  // As root: into the disk, then the actions on its loop-mounted file
  // system. With the cache, the disk after package installation is kept
  // there (see model/rootstage.ts), and a build that finds it starts from it.
  const files = FileCache.of(b.cacheDir);
  let stage: string | undefined;
  let fromCache = false;
  let inTree = false;
  const root: RootFs = { dir: path.join(b.workDir, "root"), disk: { file: disk, offset: layout.bootable ? PARTITION_OFFSET : 0 } };
  const cacheOpts = (ctx: BuildContext) => ({ log: ctx.log, label: `${ctx.image} cache`, signal: ctx.signal });
  return [
    {
      name: "look up packages stage (cache)",
      when: () => {
        fs.mkdirSync(root.dir, { recursive: true });
        return files !== undefined;
      },
      do: async (ctx) => {
        const mirror = b.mirror ? splitUrlCredentials(b.mirror).url : undefined;
        stage = `root-${rootStageKey({ suite: b.suite, mirror, packages: b.image.packages, bootable: layout.bootable, bytes: layout.bytes })}.raw`;
        const facts = files!.lookup(stage);
        if (!facts) return ctx.log.line(ctx.image, `packages stage: not in the cache (${stage})`);
        // Only while the mirror serves the package indices it was resolved from, in every suite it used.
        const stale = typeof facts.indexes === "string" ? await staleIndex(JSON.parse(facts.indexes) as StageIndex[], b.mirror, ctx.signal) : "it records no package indices";
        if (stale) return ctx.log.line(ctx.image, `packages stage: not used (${stale}): ${stage}`);
        fromCache = await files!.take(stage, disk, "copy", cacheOpts(ctx));
        // Another build may have stored the stage anew meanwhile: only the one checked is used.
        if (fromCache && files!.lookup(stage)?.indexes !== facts.indexes) {
          fs.rmSync(disk, { force: true });
          fromCache = false;
        }
        ctx.log.line(ctx.image, fromCache ? `packages stage: from the cache (${stage}), no mmdebstrap` : `packages stage: not in the cache (${stage})`);
      },
    },
    {
      name: "bootstrap root file system (mmdebstrap)",
      when: () => !fromCache,
      do: async (ctx) => {
        if (await bootstrapDisk(b, disk, layout, ctx)) return;
        ctx.log.line(ctx.image, "no loop mount here; bootstrapping into a directory, then mke2fs -d");
        ctx.progress?.warn("no loop mount here; bootstrapping into a directory, then mke2fs -d");
        inTree = true;
        await bootstrapTree(b, tree, layout.bootable, ctx);
      },
      cleanup: () => removeTree(tree),
    },
    {
      name: "keep packages stage (cache)",
      when: () => !fromCache && !inTree && stage !== undefined,
      do: async (ctx) => {
        const resolved = readStageIndexes(stageSourcesDir(b));
        if (!resolved.indexes) return ctx.log.line(ctx.image, `packages stage not cached: ${resolved.reason}`);
        try {
          // Nothing writes to a disk without actions once it is made: a link is enough.
          await files!.store(stage!, disk, b.image.actions.length ? "copy" : "link", { indexes: JSON.stringify(resolved.indexes) }, cacheOpts(ctx));
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          ctx.log.line(ctx.image, `warning: packages stage not cached: ${(err as Error).message}`);
        }
      },
    },
    ...actionSteps(b, root).map((step) => ({ ...step, when: () => !inTree })),
    ...actionSteps(b, { dir: tree }).map((step) => ({ ...step, when: () => inTree })),
    { ...makeDiskStep, when: () => inTree },
  ];
}

/**
 * Copy the parent's disk as raw and grow it to the image's size: the disk,
 * MBR partition 1 of a bootable one, then its file system (e2fsck and
 * resize2fs on the loop device). Returns the file system's offset in the
 * disk, and whether loop mounts work here.
 */
async function copyParentDisk(b: BackendBuild, disk: string, ctx: BuildContext): Promise<{ offset: number; loop: boolean }> {
  const parent = b.parentPath!;
  // -W (out-of-order writes): the same contents, several times faster here.
  // -t unsafe: no flush at the end; the copy is edited (through loop mounts,
  // which do not flush it either) before it becomes the image.
  await run("qemu-img", ["convert", "-W", "-t", "unsafe", "-f", imageFormat(parent), "-O", "raw", parent, disk], {
    label: `${ctx.image} qemu-img`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  const offset = partitionOffset(readSector0(disk));
  const current = fs.statSync(disk).size;
  // As qemu-img resize reads image_size: "+2G" grows the parent's disk, "10G" is the new size.
  const resize = b.image.size ? resizeOf(b.image.size) : undefined;
  const wanted = resize ? (resize.grow ? current + resize.bytes : resize.bytes) : current;
  if (wanted < current) {
    throw new Error(`image_size ${b.image.size} is smaller than the parent's disk (${current} bytes); a derived image can only grow`);
  }
  if (wanted > current) {
    fs.truncateSync(disk, wanted);
    if (offset) {
      await run("sfdisk", ["--quiet", "--no-reread", "--no-tell-kernel", "-N", "1", disk], {
        label: `${ctx.image} sfdisk`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, input: ",+\n",
      });
    }
  }
  const mnt = path.join(b.workDir, "mnt");
  fs.mkdirSync(mnt, { recursive: true });
  const grow = wanted > current;
  try {
    // Mounting also proves that loop mounts work here.
    await ns(ctx, grow ? "resize2fs" : "mount", "prepare-parent-disk.sh", [disk, String(offset), mnt, grow ? "grow" : "keep"]);
  } catch (err) {
    if (ctx.signal.aborted || (err as CommandError).exitCode !== NO_LOOP_MOUNT) throw err;
    ctx.log.line(ctx.image, "no loop mount here; falling back to libguestfs to copy the parent's files");
    ctx.progress?.warn("no loop mount here; falling back to libguestfs to copy the parent's files");
    return { offset, loop: false };
  }
  return { offset, loop: true };
}

/** Where loop mounts fail: the parent's files out through libguestfs, into a directory. */
async function copyParentTree(b: BackendBuild, disk: string, offset: number, tree: string, ctx: BuildContext): Promise<void> {
  const tarball = path.join(b.workDir, "parent.tar");
  fs.mkdirSync(tree, { recursive: true });
  await run("guestfish", ["--ro", "--format=raw", "-a", disk, "-m", offset ? "/dev/sda1" : "/dev/sda", "--",
    "tar-out", "/", tarball, "numericowner:true", "xattrs:true"], {
    label: `${ctx.image} guestfish`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE, env: b.guestfsEnv,
  });
  await run("tar", ["--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", tarball, "-C", tree], {
    label: `${ctx.image} tar`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  fs.rmSync(tarball, { force: true });
  fs.rmSync(path.join(tree, "lost+found"), { recursive: true, force: true });
}

function derivedSteps(b: BackendBuild, disk: string): Step[] {
  const tree = path.join(b.workDir, "rootfs");
  // The parent's file system in the copied disk, or, where loop mounts fail, its files in a directory.
  const root: RootFs = { dir: path.join(b.workDir, "root") };
  let inTree = false;
  let offset = 0;
  return [
    {
      name: "copy parent disk (qemu-img convert)",
      do: async (ctx) => {
        const copied = await copyParentDisk(b, disk, ctx);
        offset = copied.offset;
        fs.mkdirSync(root.dir, { recursive: true });
        if (copied.loop) {
          root.disk = { file: disk, offset };
          return;
        }
        await copyParentTree(b, disk, offset, tree, ctx);
        root.dir = tree;
        inTree = true;
      },
      cleanup: () => removeTree(tree),
    },
    {
      name: "install packages (apt-get in chroot)",
      do: (ctx) => aptInstall(root, b.image.packages, { debs: debCacheDir(b.cacheDir), aptLists: aptListsCacheDir(b.cacheDir) }, ctx),
    },
    ...actionSteps(b, root),
    {
      name: "make disk (mke2fs -d)",
      when: () => inTree,
      do: async (ctx) => {
        const layout = { bootable: offset > 0, bytes: fs.statSync(disk).size };
        await makeDisk(b, tree, disk, layout, ctx);
      },
    },
  ];
}

function actionSteps(b: BackendBuild, root: RootFs): Step[] {
  if (!b.image.actions.length) return [];
  return [{
    name: "run actions (chroot)",
    do: async (ctx) => {
      const actx = actionContext(b.baseDir);
      for (const action of b.image.actions) await applyAction(root, action, ctx, actx);
    },
  }];
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
 * refuses O_DIRECT, the page cache.
 */
export async function convertToQcow2(disk: string, target: string, ctx: BuildContext, directIo: boolean): Promise<void> {
  const convert = (cache: string) => run("qemu-img", ["convert", "-W", "-t", cache, "-f", "raw", "-O", "qcow2", disk, target], {
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

function steps(b: BackendBuild): Step[] {
  const disk = b.format === "raw" ? b.target : path.join(b.workDir, "disk.raw");
  const list = b.parentPath ? derivedSteps(b, disk) : rootSteps(b, disk);
  if (b.format === "qcow2") {
    list.push({
      name: "convert to qcow2 (qemu-img)",
      do: (ctx) => convertToQcow2(disk, b.target, ctx, b.parentPath !== undefined),
      cleanup: async () => fs.rmSync(disk, { force: true }),
    });
  }
  return list;
}

export const directBackend: Backend = { name: "direct", steps };
