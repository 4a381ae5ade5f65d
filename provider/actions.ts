// Actions as virt-customize arguments (the guestfs backend), and how
// consecutive virt-customize invocations merge into one.
//
// Each action becomes one or more argument groups for virt-customize, which
// applies its arguments in order; merging concatenates groups, so it never
// reorders anything. Pure: local paths are resolved by the caller's
// `resolve`, and install-kernel asks `kernelIn` which kernel a directory holds.
import * as path from "node:path";
import type { Action } from "./schema";

export interface ActionContext {
  /** Absolute path of a local path written in the configuration. */
  resolve(local: string): string;
  /** The kernel image file name (such as "vmlinuz-6.9.0") in a kernel install dir's boot/. */
  kernelIn(installDir: string): string;
  /** A path inside the image for a transient upload, unique to the build. */
  scratch(name: string): string;
}

/** Single-quote a string for the guest's /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** virt-customize argument groups of one action, in order. */
export function customizeArgs(action: Action, ctx: ActionContext): string[][] {
  switch (action.type) {
    case "run-command":
      return [["--run-command", action.cmd]];
    case "copy-in":
      return [["--copy-in", `${ctx.resolve(action.localPath)}:${action.remoteDir}`]];
    case "set-hostname":
      return [["--hostname", action.hostname]];
    case "mkdir":
      return [["--mkdir", action.dir]];
    case "upload":
      return [["--upload", `${ctx.resolve(action.file)}:${action.dest}`]];
    case "chmod":
      return [["--chmod", `${action.permissions}:${action.file}`]];
    case "append-line":
      return [["--append-line", `${action.file}:${action.line}`]];
    case "link":
      return [["--link", `${action.target}:${action.link}`]];
    case "install-kernel": {
      const dir = ctx.resolve(action.kernelInstallDir);
      const kernel = ctx.kernelIn(dir);
      return [
        ["--copy-in", `${path.join(dir, "boot")}:/`],
        ["--copy-in", `${path.join(dir, "lib", "modules")}:/lib/`],
        ["--link", `/boot/${kernel}:/vmlinuz`],
      ];
    }
    case "tar-in": {
      // virt-customize has no --tar-in: upload the archive, unpack it in the
      // guest (tar detects the compression), and remove it.
      const scratch = ctx.scratch(path.basename(action.tarFile));
      return [
        ["--upload", `${ctx.resolve(action.tarFile)}:${scratch}`],
        ["--run-command", `mkdir -p ${shQuote(action.remoteDir)} && tar -xpf ${shQuote(scratch)} -C ${shQuote(action.remoteDir)} && rm -f ${shQuote(scratch)}`],
      ];
    }
  }
}

/**
 * The virt-customize invocations for packages and actions: one in all when
 * merging, else one for the packages and one per argument group (lvh's
 * unmerged behaviour).
 */
export function customizeInvocations(
  packages: readonly string[],
  actions: readonly Action[],
  ctx: ActionContext,
  merge: boolean,
): string[][] {
  const groups: string[][] = [];
  if (packages.length) groups.push(["--install", packages.join(",")]);
  for (const action of actions) groups.push(...customizeArgs(action, ctx));
  if (!merge) return groups;
  return groups.length ? [groups.flat()] : [];
}
