// The direct backend's root images. As root: mmdebstrap straight into the
// new disk's empty file system, loop-mounted (for a bootable image: in an
// MBR partition, then extlinux and the MBR code; on arm64, in a GPT
// partition, then an ESP with GRUB); that disk, after package
// installation, kept in the per-user cache as the packages stage (an image
// whose actions alone change starts from it); the actions in the sandbox on
// its loop-mounted file system. Without root, or where loop mounts fail:
// mmdebstrap into a directory (as root, in the sandbox too), the actions on
// it, then mke2fs -d.
import * as fs from "node:fs";
import * as path from "node:path";
import { rootSizeBytes } from "../../../model/config";
import { DEFAULT_SIZE, isBootable } from "../../../model/image";
import { bootFirmware } from "../../../model/arch";
import { fileSystemIds } from "../../../model/reproducible";
import { writeBootConfig } from "../../boot/layout";
import { uefiFstab } from "../../boot/uefi";
import { PackagesStage } from "../../cache/packagestage";
import type { BuildContext, Step } from "../../run/steps";
import { MINUTE, run } from "../../run/exec";
import type { RootFs } from "../../sandbox/sandbox";
import type { BackendBuild } from "../backend";
import { bootstrapCommand, hook } from "../mmdebstrap";
import { bootstrapInSandbox, handoffDir, takenDir } from "../bootstrapsandbox";
import { actionSteps } from "./actions";
import { type Layout, makeFileSystem, removeTree, rootOffset } from "./disk";
import { repackStep, rootSourceDate } from "./reproducible";

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
 * image, one initramfs and the boot configuration (fstab, and extlinux.conf
 * of a BIOS-bootable one; a UEFI-bootable one's fstab names its root file
 * system's UUID).
 */
function bootstrapHooks(b: BackendBuild, bootable: boolean): string[] {
  if (!bootable) return UNSAFE_IO_HOOKS;
  const config = path.join(b.workDir, "boot-config");
  fs.mkdirSync(path.join(config, "etc"), { recursive: true });
  writeBootConfig(config, bootFirmware(b.arch) === "uefi" ? uefiFstab(fileSystemIds(b.image.name).uuid) : undefined);
  return [...UNSAFE_IO_HOOKS, ...ONE_INITRAMFS_HOOKS, hook("customize", "boot-config", config)];
}

/** Without root: mmdebstrap into `tree` (its own mode: no sandbox of ours), with the image's packages (and the kernel of a bootable image). */
async function bootstrapTree(b: BackendBuild, tree: string, bootable: boolean, ctx: BuildContext): Promise<void> {
  const { cmd, args, env } = bootstrapCommand(b, tree, bootable, bootstrapHooks(b, bootable), undefined, ctx.sourceDateEpoch);
  // An empty environment but bootstrapEnv()'s: mmdebstrap passes it on to the package scripts.
  await run(cmd, args, { label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs: 60 * MINUTE, env, cleanEnv: true });
}

/**
 * Where the root's sources.list and the InRelease files its apt read are
 * (mmdebstrap-hook.sh stage-sources), once taken out of the sandbox.
 */
const stageSourcesDir = (b: BackendBuild) => path.join(takenDir(b), "sources");

/**
 * As root: mmdebstrap in the sandbox, on a minimal view of the host
 * (backends/bootstrapsandbox.ts), straight into the new disk's empty file
 * system, loop-mounted: no directory to pack with mke2fs -d and remove
 * afterwards, about 5 s of a root build here. Without `disk` (where loop
 * mounts fail), into the directory `tree`. Returns false where loop mounts
 * fail (nothing was installed; the disk is made again afterwards).
 */
async function bootstrapRoot(b: BackendBuild, tree: string, layout: Layout, ctx: BuildContext, disk?: string): Promise<boolean> {
  const staged = path.join(handoffDir(b), "staged", "sources");
  fs.mkdirSync(staged, { recursive: true });
  const hooks = [...bootstrapHooks(b, layout.bootable), hook("extract", "stage-sources", staged)];
  if (!disk) return bootstrapInSandbox(b, { dir: tree }, layout.bootable, hooks, ctx);
  await makeFileSystem(disk, layout, undefined, ctx);
  const target = { dir: path.join(b.workDir, "target"), disk: { file: disk, offset: rootOffset(layout) } };
  // The boot loader goes in when the disk is made again (reproducible.ts).
  return bootstrapInSandbox(b, target, layout.bootable, hooks, ctx);
}

const BOOTSTRAP = "bootstrap root file system (mmdebstrap)";

/**
 * The source date (reproducible.ts), for mmdebstrap, the sandbox and the
 * disk: taken by the first step, the packages stage's look-up or mmdebstrap.
 */
async function withSourceDate(b: BackendBuild, ctx: BuildContext): Promise<void> {
  ctx.sourceDateEpoch ??= await rootSourceDate(b, ctx);
}

/** Without root: in a directory, the actions on it, then mke2fs -d. */
function unprivilegedRootSteps(b: BackendBuild, disk: string, tree: string, layout: Layout): Step[] {
  return [
    {
      name: BOOTSTRAP,
      do: async (ctx) => {
        await withSourceDate(b, ctx);
        await bootstrapTree(b, tree, layout.bootable, ctx);
      },
      cleanup: (ctx) => removeTree(tree, ctx),
    },
    ...actionSteps(b, { dir: tree }),
    repackStep(b, disk, () => ({ dir: tree }), () => layout),
  ];
}

export function rootSteps(b: BackendBuild, disk: string): Step[] {
  const tree = path.join(b.workDir, "rootfs");
  const bootable = isBootable(b.image);
  const layout: Layout = { bootable, bytes: rootSizeBytes(b.image.size ?? DEFAULT_SIZE), firmware: bootable ? bootFirmware(b.arch) : undefined };
  if (process.getuid?.() !== 0) return unprivilegedRootSteps(b, disk, tree, layout);
  // As root: into the disk, then the actions on its loop-mounted file system.
  // A UEFI-bootable stage's fstab names its root file system's UUID, which its image's name decides.
  const rootUuid = layout.firmware === "uefi" ? fileSystemIds(b.image.name).uuid : undefined;
  const stage = PackagesStage.of(b.cacheDir, { arch: b.arch, suite: b.suite, mirror: b.mirror, packages: b.image.packages, ...layout, rootUuid });
  let fromCache = false;
  let inTree = false;
  const root: RootFs = { dir: path.join(b.workDir, "root"), disk: { file: disk, offset: rootOffset(layout) } };
  return [
    {
      name: "look up packages stage (cache)",
      when: () => {
        fs.mkdirSync(root.dir, { recursive: true });
        return stage !== undefined;
      },
      do: async (ctx) => {
        await withSourceDate(b, ctx);
        fromCache = await stage!.takeInto(disk, ctx);
      },
    },
    {
      name: BOOTSTRAP,
      when: () => !fromCache,
      do: async (ctx) => {
        await withSourceDate(b, ctx);
        if (await bootstrapRoot(b, tree, layout, ctx, disk)) return;
        ctx.log.line(ctx.image, "no loop mount here; bootstrapping into a directory, then mke2fs -d");
        ctx.progress?.warn("no loop mount here; bootstrapping into a directory, then mke2fs -d");
        inTree = true;
        await bootstrapRoot(b, tree, layout, ctx);
      },
      cleanup: (ctx) => removeTree(tree, ctx),
    },
    {
      name: "keep packages stage (cache)",
      when: () => !fromCache && !inTree && stage !== undefined,
      // A copy: the last steps (ssh host keys, the clean) write to every disk, even one without actions.
      do: (ctx) => stage!.keep(disk, stageSourcesDir(b), ctx),
    },
    ...actionSteps(b, root).map((step) => ({ ...step, when: () => !inTree })),
    ...actionSteps(b, { dir: tree }).map((step) => ({ ...step, when: () => inTree })),
    repackStep(b, disk, () => (inTree ? { dir: tree } : root), () => layout),
  ];
}
