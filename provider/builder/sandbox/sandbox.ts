// Running commands inside an image's root file system, VM-less: a
// directory, or the file system of a raw disk image, loop-mounted for each
// command. Every command that runs guest code (package scripts, actions)
// runs in sh/sandbox-run.sh's bubblewrap sandbox: nothing it does reaches
// the build host. The script is PID 1 of private mount and PID namespaces,
// so if the build is killed, the kernel ends its processes and mounts.
// User strings reach the scripts as "$@", never as shell code.
//
// File actions go through the guest's own tools inside the sandbox, so an
// absolute symlink in the image resolves inside the image, never on the host.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Action, type ActionContext, type GuestOp, guestOps } from "../../actions";
import { adoptDebs } from "../cache/debadopt";
import { MINUTE, run } from "../run/exec";
import { withinBounds } from "./bounds";
import { networkEnv } from "./network";
import { noSyncEnv } from "./nosync";
import type { BuildContext } from "../run/steps";
import { hostScript, scriptText } from "../run/shell";

/**
 * Where a chroot's files are: a directory, or a raw disk whose file system
 * (at `offset` bytes) is mounted on `dir`; with `changes`, read-only, below
 * an overlay whose upper directory (`changes`/upper) takes every change.
 */
export interface RootFs {
  dir: string;
  disk?: { file: string; offset: number; changes?: string };
}


export interface ChrootOptions {
  label: string;
  timeoutMs?: number;
  /** A host file streamed to the command's stdin. */
  inputFile?: string;
  /** An open host file streamed to the command's stdin, and closed after. */
  inputFd?: number;
  env?: Record<string, string>;
  /** Resolve with the command's stdout (not logged with "quiet"), at most `captureLimit` bytes of it. */
  capture?: boolean | "quiet";
  captureLimit?: number;
}

/** Private mount and PID namespaces, with a /proc of the new PID namespace (slirp4netns finds the sandbox's network namespace there). */
const NAMESPACES = ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc"];

/** Run argv inside `root`, in the sandbox, with the network its policy allows (network.ts) and DNS. */
export async function inChroot(root: RootFs, argv: string[], ctx: BuildContext, opts: ChrootOptions): Promise<string> {
  const disk = root.disk ? {
    VM_IMAGES_DISK: root.disk.file, VM_IMAGES_DISK_OFFSET: String(root.disk.offset),
    ...(root.disk.changes ? { VM_IMAGES_DISK_CHANGES: root.disk.changes } : {}),
  } : {};
  // The run's scratch files live in the build's work directory, removed with it.
  const runDir = path.join(path.dirname(root.dir), "sandbox");
  const network = await networkEnv(ctx.network ?? { mode: "public", allowHosts: [] }, ctx.image);
  // The build's bounds (bounds.ts): its cgroup, tmpfs size, file-size limit and what is left of its time.
  const diskBytes = root.disk ? fs.statSync(root.disk.file).size : undefined;
  const epoch = ctx.sourceDateEpoch === undefined ? {} : { VM_IMAGES_SOURCE_DATE_EPOCH: String(ctx.sourceDateEpoch) };
  return withinBounds(ctx.bounds, diskBytes, (bounded, timeoutMs) =>
    run("unshare", [...NAMESPACES, "--", "/bin/sh", hostScript("sandbox-run.sh"), root.dir, runDir, "--", ...argv], {
      label: `${ctx.image} ${opts.label}`,
      log: ctx.log,
      signal: ctx.signal,
      timeoutMs: opts.timeoutMs ?? timeoutMs,
      inputFile: opts.inputFile,
      inputFd: opts.inputFd,
      capture: opts.capture,
      captureLimit: opts.captureLimit,
      // The kernel ends the namespace, and everything in it, with unshare.
      killSignal: "SIGKILL",
      // Nothing of the provider's environment: bwrap's --clearenv clears only
      // the command's, and the sandbox's PID 1 (bwrap's own child) keeps
      // bwrap's, readable in /proc/1/environ by the guest's root.
      cleanEnv: true,
      env: {
        LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive", PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ...disk, ...epoch, ...noSyncEnv(path.dirname(root.dir)), ...network, ...bounded, ...opts.env,
      },
    }));
}

/** A script of the package, run by the guest's /bin/sh with `args` as "$1"... */
function guestSh(relative: string, args: readonly string[]): string[] {
  return ["/bin/sh", "-c", scriptText(relative), "sh", ...args];
}

/**
 * Install packages with the guest's apt as virt-customize --install does
 * (recommends included, new conffiles), starting no services, in one
 * sandbox run. apt sees the shared .deb cache read-only, through a per-run
 * archive directory of links; what it downloaded joins the cache afterwards
 * only if a verified package index lists it (debadopt.ts), since the
 * image's own apt and package scripts ran there. So parallel builds share
 * the cache, no build can damage or poison it, and no .deb lands in the
 * image. apt-get update starts from the package lists root builds keep
 * (`caches.aptLists`, read-only).
 */
export async function aptInstall(root: RootFs, packages: readonly string[], caches: { debs: string; aptLists: string }, ctx: BuildContext): Promise<void> {
  if (packages.length === 0) return;
  const downloaded = path.join(path.dirname(root.dir), "downloaded-debs");
  try {
    await inChroot(root, guestSh("builder/sh/apt-install.sh", packages), ctx, {
      label: "apt-get", env: { VM_IMAGES_DEB_CACHE: caches.debs, VM_IMAGES_NEW_DEBS: downloaded, VM_IMAGES_APT_LISTS: caches.aptLists },
    });
    const { adopted, refused } = await adoptDebs(downloaded, caches.debs, caches.aptLists);
    if (adopted.length) ctx.log.line(`${ctx.image} apt-get`, `${adopted.length} downloaded package(s) joined the .deb cache`);
    if (refused.length) ctx.log.line(`${ctx.image} apt-get`, `not kept in the .deb cache (no verified package index lists them as such): ${refused.join(", ")}`);
  } finally {
    fs.rmSync(downloaded, { recursive: true, force: true });
  }
}

/**
 * The last step of a build: where the image has sshd, its host keys removed
 * and generated at first boot instead (sh/ssh-host-keys.sh). Returns whether
 * the image has sshd; without it, nothing changes.
 */
export async function sshHostKeysAtFirstBoot(root: RootFs, ctx: BuildContext): Promise<boolean> {
  if (!(await hasShell(root, ctx))) return false;
  const out = await inChroot(root, guestSh("builder/sh/ssh-host-keys.sh", []), ctx, { label: "ssh host keys", capture: true });
  return hasSshd(out);
}

/**
 * The most of a guest's package report the build host takes: about a
 * hundred times what an image with a few thousand packages prints. The guest
 * decides what it prints; a report over it fails the build.
 */
export const MAX_PACKAGES_REPORT = 64 * 2 ** 20;

/** What the image's dpkg database and apt sources say (sh/installed-packages.sh), read in the sandbox; undefined without a shell. */
export async function installedPackagesReport(root: RootFs, ctx: BuildContext): Promise<string | undefined> {
  if (!(await hasShell(root, ctx))) return undefined;
  return inChroot(root, guestSh("builder/sh/installed-packages.sh", []), ctx, { label: "installed packages", capture: "quiet", captureLimit: MAX_PACKAGES_REPORT });
}

/**
 * Whether the image has a /bin/sh for our guest scripts (a bare file system,
 * such as a parent made by hand, has none, and nothing for them to do):
 * looked up by debugfs in the disk's file system, which no run has mounted
 * now, or in the directory.
 */
export async function hasShell(root: RootFs, ctx: BuildContext): Promise<boolean> {
  if (!root.disk) return fs.existsSync(path.join(root.dir, "bin", "sh")) || isLink(path.join(root.dir, "bin", "sh"));
  // A run may have made one (in the overlay's upper directory: a whiteout, a character device, is a removal).
  const upper = root.disk.changes && ["bin/sh", "usr/bin/sh"].map((p) => lstatOrUndefined(path.join(root.disk!.changes!, "upper", p))).find(Boolean);
  if (upper) return !upper.isCharacterDevice();
  const out = await run("debugfs", ["-R", "stat /bin/sh", `${root.disk.file}?offset=${root.disk.offset}`], {
    label: `${ctx.image} debugfs`, log: ctx.log, signal: ctx.signal, timeoutMs: MINUTE, capture: true,
  });
  const found = /^Inode: \d+/m.test(out);
  if (!found) ctx.log.line(ctx.image, "the image has no /bin/sh: no guest script runs in it");
  return found;
}

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch {
    return undefined;
  }
}

function isLink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** What sh/ssh-host-keys.sh printed means: the image has sshd. */
export const hasSshd = (out: string): boolean => /^sshd$/m.test(out);

/** Apply one action inside the root, with the meaning virt-customize gives it. */
export async function applyAction(root: RootFs, action: Action, ctx: BuildContext, actx: ActionContext): Promise<void> {
  for (const op of guestOps(action, actx)) await applyOp(root, op, ctx, action.type);
}

async function applyOp(root: RootFs, op: GuestOp, ctx: BuildContext, label: string): Promise<void> {
  switch (op.op) {
    case "exec":
      await inChroot(root, op.argv, ctx, { label, inputFd: op.stdinFile === undefined ? undefined : openUnmoved(op.stdinFile) });
      return;
    case "script":
      await inChroot(root, guestSh(`actions/sh/${op.script}`, op.args), ctx, {
        label, inputFd: op.stdinFile === undefined ? undefined : openUnmoved(op.stdinFile),
      });
      return;
    case "copy-in":
      await tarInto(root, op.from, op.into, ctx, label);
      return;
  }
}

/**
 * Open a host file an action streams into the image: the link-free path its
 * context resolved and confined just before (actioncontext.ts). Opened
 * without following a link, and the file opened must still be at that very
 * path, so a link put in its place, or in place of a directory above it,
 * since the check cannot redirect the read.
 */
export function openUnmoved(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ELOOP") throw err;
    throw new Error(`${file} became a symbolic link after it was checked; nothing was copied from it`);
  }
  const opened = fs.readlinkSync(`/proc/self/fd/${fd}`);
  if (opened !== file) {
    fs.closeSync(fd);
    throw new Error(`${file} changed while the build read it (it now leads to ${opened}); nothing was copied from it`);
  }
  return fd;
}

/** Copy the host file or directory `from` into the guest directory `into` (which must exist), as root-owned files. */
async function tarInto(root: RootFs, from: string, into: string, ctx: BuildContext, label: string) {
  // Staged as a tar file in the build's work directory, next to the root.
  const archive = path.join(path.dirname(root.dir), `copy-${process.hrtime.bigint()}.tar`);
  await run("tar", ["--owner=0", "--group=0", "--numeric-owner", "-cf", archive, "-C", path.dirname(from), "--", path.basename(from)], {
    label: `${ctx.image} ${label}`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
  try {
    await inChroot(root, guestSh("actions/sh/copy-in.sh", [into]), ctx, { label, inputFile: archive });
  } finally {
    fs.rmSync(archive, { force: true });
  }
}
