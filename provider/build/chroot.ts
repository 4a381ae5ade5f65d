// Running commands inside a root file system, VM-less: a directory, or the
// file system of a raw disk image, loop-mounted read-write for each command.
//
// Each command runs in private mount and PID namespaces (unshare --mount
// --pid --fork), where sh/chroot-enter.sh mounts the disk, /proc, /sys, /dev
// and the host's resolv.conf into the root. When the command ends, whatever
// it left running is killed and the disk is unmounted; if the build is
// killed, the kernel ends the namespaces, their processes and every mount
// with it. User strings reach the scripts as "$@", never as shell code.
//
// File actions go through the guest's own tools inside the chroot, so an
// absolute symlink in the image resolves inside the image, never on the host.
import * as fs from "node:fs";
import * as path from "node:path";
import { type Action, type ActionContext, type GuestOp, guestOps } from "../actions";
import { MINUTE, run } from "./exec";
import type { BuildContext } from "./pipeline";
import { hostScript, scriptText } from "./shell";

/** Where a chroot's files are: a directory, or a raw disk whose file system (at `offset` bytes) is mounted on `dir`. */
export interface RootFs {
  dir: string;
  disk?: { file: string; offset: number };
}


export interface ChrootOptions {
  label: string;
  timeoutMs?: number;
  /** A host file streamed to the command's stdin. */
  inputFile?: string;
  env?: Record<string, string>;
}

const NAMESPACES = ["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"];

/** Run argv inside `root` with /proc, /sys, /dev and DNS available. */
export async function inChroot(root: RootFs, argv: string[], ctx: BuildContext, opts: ChrootOptions): Promise<string> {
  const disk = root.disk ? { VM_IMAGES_DISK: root.disk.file, VM_IMAGES_DISK_OFFSET: String(root.disk.offset) } : {};
  return run("unshare", [...NAMESPACES, "--", "/bin/sh", hostScript("chroot-enter.sh"), root.dir, ...argv], {
    label: `${ctx.image} ${opts.label}`,
    log: ctx.log,
    signal: ctx.signal,
    timeoutMs: opts.timeoutMs ?? 60 * MINUTE,
    inputFile: opts.inputFile,
    // The kernel ends the namespace, and everything in it, with unshare.
    killSignal: "SIGKILL",
    env: {
      LC_ALL: "C.UTF-8", DEBIAN_FRONTEND: "noninteractive", PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      ...disk, ...opts.env,
    },
  });
}

/** A script of the package, run by the guest's /bin/sh with `args` as "$1"... */
function guestSh(relative: string, args: readonly string[]): string[] {
  return ["/bin/sh", "-c", scriptText(relative), "sh", ...args];
}

/**
 * Install packages with the guest's apt as virt-customize --install does
 * (recommends included, new conffiles), starting no services. The shared
 * .deb cache is mounted over the image's archive directory, so downloads
 * outlive the build and never land in the image.
 */
export async function aptInstall(root: RootFs, packages: readonly string[], debCache: string, ctx: BuildContext): Promise<void> {
  if (packages.length === 0) return;
  await inChroot(root, guestSh("build/sh/apt-install.sh", packages), ctx, { label: "apt-get", env: { VM_IMAGES_DEB_CACHE: debCache } });
}

/** Apply one action inside the root, with the meaning virt-customize gives it. */
export async function applyAction(root: RootFs, action: Action, ctx: BuildContext, actx: ActionContext): Promise<void> {
  for (const op of guestOps(action, actx)) await applyOp(root, op, ctx, action.type);
}

async function applyOp(root: RootFs, op: GuestOp, ctx: BuildContext, label: string): Promise<void> {
  switch (op.op) {
    case "exec":
      await inChroot(root, op.argv, ctx, { label, inputFile: op.stdinFile });
      return;
    case "script":
      await inChroot(root, guestSh(`actions/sh/${op.script}`, op.args), ctx, { label, inputFile: op.stdinFile });
      return;
    case "copy-in":
      await tarInto(root, op.from, op.into, ctx, label);
      return;
  }
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
