// A root image's mmdebstrap as root, both backends: in the sandbox, on a
// minimal view of the build host (sandbox/hostview.ts, sh/bootstrap-disk.sh),
// into a new disk's loop-mounted file system or into an empty directory.
// The package lists staged before any package script ran, and the new .debs
// an index of them vouches for, join the caches afterwards.
import * as fs from "node:fs";
import * as path from "node:path";
import { isLoopback } from "../../model/oci";
import type { BuildContext } from "../run/steps";
import { type CommandError, MINUTE, run } from "../run/exec";
import { hostScript } from "../run/shell";
import { noSyncEnv } from "../sandbox/nosync";
import { writeHostView } from "../sandbox/hostview";
import { networkEnv } from "../sandbox/network";
import { withinBounds } from "../sandbox/bounds";
import { adoptDebs } from "../cache/debadopt";
import { aptListsCacheDir, debCacheDir } from "../cache/dirs";
import type { BackendBuild } from "./backend";
import { bootstrapCommand, type InSandbox, stagedLists } from "./mmdebstrap";
import { NO_LOOP_MOUNT } from "./direct/disk";

/** mmdebstrap's sandbox: its scratch and handoff directories, and its view of the host. */
const sandboxDir = (b: BackendBuild) => path.join(b.workDir, "bootstrap");
export const handoffDir = (b: BackendBuild) => path.join(sandboxDir(b), "handoff");

/** What the hooks staged, once taken out of the sandbox (mmdebstrap-hook.sh handoff). */
export const takenDir = (b: BackendBuild) => `${handoffDir(b)}.taken`;

/** Where mmdebstrap puts the image: `dir`, the mount point of `disk`'s file system (at `offset`) or, without a disk, an empty directory. */
export interface BootstrapTarget {
  dir: string;
  disk?: { file: string; offset: number };
}

/**
 * mmdebstrap into `target` in the sandbox, with our `hooks` besides the
 * command's own. Returns false where loop mounts fail (nothing was
 * installed). The bounds' file size is the disk's, or the root size's.
 */
export async function bootstrapInSandbox(b: BackendBuild, target: BootstrapTarget, bootable: boolean, hooks: string[], ctx: BuildContext): Promise<boolean> {
  const dir = sandboxDir(b);
  const box: InSandbox = { newDebs: path.join(dir, "new-debs"), handoff: handoffDir(b), tmp: path.join(dir, "tmp") };
  const lists = aptListsCacheDir(b.cacheDir);
  for (const d of [target.dir, box.newDebs, box.tmp, stagedLists(box.handoff), lists]) fs.mkdirSync(d, { recursive: true });
  const { args, env } = bootstrapCommand(b, target.dir, bootable, hooks, box, ctx.sourceDateEpoch);
  // Read-only: the build's work directory (the files our hooks read: the boot configuration, the
  // mirror's credentials), our scripts and the lists cache; read-write: the sandbox's own directories.
  const view = writeHostView(path.join(dir, "view"), {
    target: target.dir, ro: [b.workDir, path.dirname(hostScript("sandbox-run.sh")), lists, ...localMirror(b.mirror)], rw: [box.tmp, box.newDebs, box.handoff], debCache: debCacheDir(b.cacheDir),
  });
  // The sandbox's command starts from an empty environment: mmdebstrap's is given on its command line.
  const command = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "mmdebstrap", ...args];
  // The stack's network policy, but never without the mirror, which mmdebstrap needs: `none` is `mirror` here.
  const policy = ctx.network ?? { mode: "public" as const, allowHosts: [] };
  const net = loopbackMirror(b.mirror) ? { VM_IMAGES_SHARE_NET: "1" } : await networkEnv({ ...policy, mode: policy.mode === "none" ? "mirror" : policy.mode }, ctx.image);
  // The build's bounds, as for every sandbox run (sandbox/bounds.ts).
  const diskBytes = target.disk ? fs.statSync(target.disk.file).size : undefined;
  const where = target.disk ? [target.disk.file, String(target.disk.offset)] : ["-", "0"];
  try {
    await withinBounds(ctx.bounds, diskBytes, (bounded, timeoutMs) =>
      run("unshare", ["--mount", "--propagation", "private", "--", "/bin/bash", hostScript("bootstrap-disk.sh"), ...where, target.dir, path.join(dir, "run"), ...command], {
        label: `${ctx.image} mmdebstrap`, log: ctx.log, signal: ctx.signal, timeoutMs,
        env: { ...noSyncEnv(b.workDir), ...net, ...bounded, VM_IMAGES_VIEW: view, VM_IMAGES_HANDOFF: box.handoff }, cleanEnv: true,
      }));
  } catch (err) {
    if (target.disk && !ctx.signal.aborted && (err as CommandError).exitCode === NO_LOOP_MOUNT) return false;
    throw err;
  }
  await keepDownloads(b, box, ctx);
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

/**
 * The tree mmdebstrap made, as the tar archive mmdebstrap's own tarball
 * output would be (its options, and its mtime clamp at SOURCE_DATE_EPOCH),
 * for guestfish tar-in. tar runs where only the host's /usr and the tree
 * are seen (usr-only.sh), so no path of the image resolves on the host.
 */
export async function tarTree(tree: string, tarball: string, ctx: BuildContext): Promise<void> {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const clamp = epoch && /^\d+$/.test(epoch) ? [`--mtime=@${epoch}`, "--clamp-mtime"] : [];
  const tar = ["tar", "--sort=name", ...clamp, "--numeric-owner", "--one-file-system", "--format=pax",
    "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime", "--xattrs", "-C", "/target", "-c", "."];
  await run("/bin/sh", ["-c", 'out=$1; shift; exec /bin/bash "$@" > "$out"', "sh", tarball, hostScript("usr-only.sh"), tree, "--cap-add", "CAP_DAC_READ_SEARCH", "--", ...tar], {
    label: `${ctx.image} tar`, log: ctx.log, signal: ctx.signal, timeoutMs: 30 * MINUTE,
  });
}
