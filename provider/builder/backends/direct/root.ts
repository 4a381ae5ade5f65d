// The direct backend's root images. As root: mmdebstrap straight into the
// new disk's empty file system, loop-mounted (for a bootable image: in an
// MBR partition, then extlinux and the MBR code); that disk, after package
// installation, kept in the per-user cache as the packages stage (an image
// whose actions alone change starts from it); the actions in the sandbox on
// its loop-mounted file system. Without root, or where loop mounts fail:
// mmdebstrap into a directory, the actions on it, then mke2fs -d.
import * as fs from "node:fs";
import * as path from "node:path";
import { rootSizeBytes } from "../../../model/config";
import { DEFAULT_SIZE, isBootable } from "../../../model/image";
import { isLoopback } from "../../../model/oci";
import { PARTITION_OFFSET, writeBootConfig } from "../../boot/layout";
import { PackagesStage } from "../../cache/packagestage";
import type { BuildContext, Step } from "../../run/steps";
import { MINUTE, run } from "../../run/exec";
import type { RootFs } from "../../sandbox/sandbox";
import { noSyncEnv } from "../../sandbox/nosync";
import type { BackendBuild } from "../backend";
import { bootstrapCommand, hook, type InSandbox, stagedLists } from "../mmdebstrap";
import { writeHostView } from "../../sandbox/hostview";
import { networkEnv } from "../../sandbox/network";
import { adoptDebs } from "../../cache/debadopt";
import { aptListsCacheDir, debCacheDir } from "../../cache/dirs";
import { hostScript } from "../../run/shell";
import { actionSteps } from "./actions";
import { inMountNamespace, installBootloader, type Layout, makeDisk, makeFileSystem, noLoopMount, removeTree } from "./disk";

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
  // An empty environment but bootstrapEnv()'s: mmdebstrap passes it on to the package scripts.
  await run(cmd, args, { label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE, env, cleanEnv: true });
}

/** mmdebstrap's sandbox: its scratch and handoff directories, and its view of the host (bootstrap-disk.sh). */
const sandboxDir = (b: BackendBuild) => path.join(b.workDir, "bootstrap");
const handoffDir = (b: BackendBuild) => path.join(sandboxDir(b), "handoff");

/**
 * Where the root's sources.list and the InRelease files its apt read are
 * (mmdebstrap-hook.sh stage-sources), once taken out of the sandbox.
 */
const stageSourcesDir = (b: BackendBuild) => path.join(`${handoffDir(b)}.taken`, "sources");

/**
 * mmdebstrap straight into the new disk's empty file system, loop-mounted
 * (sh/bootstrap-disk.sh): no directory to pack with mke2fs -d and remove
 * afterwards, about 5 s of a root build here. mmdebstrap, its package
 * scripts and our hooks run in the sandbox, on a minimal view of the host
 * (sandbox/hostview.ts). Returns false where loop mounts fail (nothing was
 * installed; the disk is made again afterwards).
 */
async function bootstrapDisk(b: BackendBuild, disk: string, layout: Layout, ctx: BuildContext): Promise<boolean> {
  await makeFileSystem(disk, layout, undefined, ctx);
  const mnt = path.join(b.workDir, "target");
  const dir = sandboxDir(b);
  const box: InSandbox = { newDebs: path.join(dir, "new-debs"), handoff: handoffDir(b), tmp: path.join(dir, "tmp") };
  const lists = aptListsCacheDir(b.cacheDir);
  for (const d of [mnt, box.newDebs, box.tmp, stagedLists(box.handoff), path.join(box.handoff, "staged", "sources"), lists]) {
    fs.mkdirSync(d, { recursive: true });
  }
  const hooks = [...bootstrapHooks(b, layout.bootable), hook("extract", "stage-sources", path.join(box.handoff, "staged", "sources"))];
  const { args, env } = bootstrapCommand(b, mnt, layout.bootable, hooks, box);
  // Read-only: the build's work directory (the files our hooks read: the boot configuration, the
  // mirror's credentials), our scripts and the lists cache; read-write: the sandbox's own directories.
  const view = writeHostView(path.join(dir, "view"), {
    target: mnt, ro: [b.workDir, path.dirname(hostScript("sandbox-run.sh")), lists, ...localMirror(b.mirror)], rw: [box.tmp, box.newDebs, box.handoff], debCache: debCacheDir(b.cacheDir),
  });
  const offset = String(layout.bootable ? PARTITION_OFFSET : 0);
  // The sandbox's command starts from an empty environment: mmdebstrap's is given on its command line.
  const command = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "mmdebstrap", ...args];
  // The stack's network policy, but never without the mirror, which mmdebstrap needs: `none` is `mirror` here.
  const policy = ctx.network ?? { mode: "public" as const, allowHosts: [] };
  const net = loopbackMirror(b.mirror) ? { VM_IMAGES_SHARE_NET: "1" } : await networkEnv({ ...policy, mode: policy.mode === "none" ? "mirror" : policy.mode }, ctx.image);
  // The build's bounds, as for every sandbox run (sandbox/bounds.ts).
  const diskBytes = fs.statSync(disk).size;
  const bounded = ctx.bounds ? await ctx.bounds.sandboxEnv(diskBytes) : {};
  try {
    await inMountNamespace(ctx, "mmdebstrap", "bootstrap-disk.sh", [disk, offset, mnt, path.join(dir, "run"), ...command], {
      env: { ...noSyncEnv(b.workDir), ...net, ...bounded, VM_IMAGES_VIEW: view, VM_IMAGES_HANDOFF: box.handoff },
      cleanEnv: true, timeoutMs: ctx.bounds?.remainingMs() ?? 60 * MINUTE,
    });
  } catch (err) {
    if (noLoopMount(err, ctx)) return false;
    throw ctx.bounds ? await ctx.bounds.explain(err, diskBytes) : err;
  }
  const reached = await ctx.bounds?.check();
  if (reached) throw reached;
  await keepDownloads(b, box, ctx);
  if (layout.bootable) await installBootloader(b, disk, ctx);
  return true;
}

/**
 * A mirror on the build host's file system, read-only in the sandbox's
 * view: a file: URL's directory, or the directory of a sources file
 * (mmdebstrap takes an existing file's lines as the image's sources).
 */
function localMirror(mirror: string | undefined): string[] {
  if (mirror?.startsWith("file:")) return [new URL(mirror).pathname];
  if (mirror && path.isAbsolute(mirror)) return [path.dirname(mirror)];
  return [];
}

/**
 * A mirror on the host's loopback: the sandbox keeps the host's network for
 * it (slirp4netns's network cannot reach the host's loopback), and so do
 * the package scripts. Everything else of the sandbox stays.
 */
function loopbackMirror(mirror: string | undefined): boolean {
  try {
    return mirror !== undefined && isLoopback(new URL(mirror).host);
  } catch {
    return false;
  }
}

/**
 * What the build downloaded joins the caches: the package lists the hooks
 * staged before any package script ran (as lists-out does in the image),
 * then each new .deb that an index of those lists vouches for (package
 * scripts ran in the sandbox, which could have put anything there).
 */
async function keepDownloads(b: BackendBuild, box: InSandbox, ctx: BuildContext): Promise<void> {
  const lists = aptListsCacheDir(b.cacheDir);
  await run("/bin/sh", [hostScript("mmdebstrap-hook.sh"), "lists-out", path.join(`${box.handoff}.taken`, "root"), lists], {
    label: `${ctx.image} lists`, log: ctx.log, signal: ctx.signal, timeoutMs: 5 * MINUTE,
  });
  const { refused } = await adoptDebs(box.newDebs, debCacheDir(b.cacheDir), lists);
  if (refused.length) ctx.log.line(ctx.image, `not kept in the .deb cache (no verified index lists them): ${refused.join(" ")}`);
}

const BOOTSTRAP = "bootstrap root file system (mmdebstrap)";

/** Without root: in a directory, the actions on it, then mke2fs -d. */
function unprivilegedRootSteps(b: BackendBuild, disk: string, tree: string, layout: Layout): Step[] {
  return [
    { name: BOOTSTRAP, do: (ctx) => bootstrapTree(b, tree, layout.bootable, ctx), cleanup: (ctx) => removeTree(tree, ctx) },
    ...actionSteps(b, { dir: tree }),
    { name: "make disk (mke2fs -d)", do: (ctx) => makeDisk(b, tree, disk, layout, ctx) },
  ];
}

export function rootSteps(b: BackendBuild, disk: string): Step[] {
  const tree = path.join(b.workDir, "rootfs");
  const layout: Layout = { bootable: isBootable(b.image), bytes: rootSizeBytes(b.image.size ?? DEFAULT_SIZE) };
  if (process.getuid?.() !== 0) return unprivilegedRootSteps(b, disk, tree, layout);
  // As root: into the disk, then the actions on its loop-mounted file system.
  const stage = PackagesStage.of(b.cacheDir, { suite: b.suite, mirror: b.mirror, packages: b.image.packages, ...layout });
  let fromCache = false;
  let inTree = false;
  const root: RootFs = { dir: path.join(b.workDir, "root"), disk: { file: disk, offset: layout.bootable ? PARTITION_OFFSET : 0 } };
  return [
    {
      name: "look up packages stage (cache)",
      when: () => {
        fs.mkdirSync(root.dir, { recursive: true });
        return stage !== undefined;
      },
      do: async (ctx) => void (fromCache = await stage!.takeInto(disk, ctx)),
    },
    {
      name: BOOTSTRAP,
      when: () => !fromCache,
      do: async (ctx) => {
        if (await bootstrapDisk(b, disk, layout, ctx)) return;
        ctx.log.line(ctx.image, "no loop mount here; bootstrapping into a directory, then mke2fs -d");
        ctx.progress?.warn("no loop mount here; bootstrapping into a directory, then mke2fs -d");
        inTree = true;
        await bootstrapTree(b, tree, layout.bootable, ctx);
      },
      cleanup: (ctx) => removeTree(tree, ctx),
    },
    {
      name: "keep packages stage (cache)",
      when: () => !fromCache && !inTree && stage !== undefined,
      // Nothing writes to a disk without actions once it is made: a link is enough.
      do: (ctx) => stage!.keep(disk, stageSourcesDir(b), b.image.actions.length === 0, ctx),
    },
    ...actionSteps(b, root).map((step) => ({ ...step, when: () => !inTree })),
    ...actionSteps(b, { dir: tree }).map((step) => ({ ...step, when: () => inTree })),
    { name: "make disk (mke2fs -d)", when: () => inTree, do: (ctx) => makeDisk(b, tree, disk, layout, ctx) },
  ];
}
