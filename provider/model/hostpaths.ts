// Where on the build host an action may read. The build runs as root and
// what an action reads lands in the image, which may be published; so a
// local path of an images file is confined to that file's directory (the
// base directory) and to the directories the `hostPaths` setting allows,
// judged after links are resolved. /proc, /sys and /dev hold the host's
// secrets (a process's environment, its memory, devices) and are never read,
// even under an allowed directory.
import * as fs from "node:fs";
import * as path from "node:path";

/** Host trees no action reads, whatever is allowed. */
export const NEVER_READ = ["/proc", "/sys", "/dev"] as const;

/** Where local paths may lead: the base directory, and the extra directories allowed. */
export interface HostPathRoots {
  baseDir: string;
  allowed: readonly string[];
}

/** Where a local path of an action was written: the image, the action's index and type, and the field. */
export interface HostPathSite {
  image: string;
  action: number;
  type: string;
  field: string;
}

/** A refused or missing local path: the message names the image, the action and the path, and what to do. */
export class HostPathError extends Error {}

const within = (p: string, dir: string) => {
  const rel = path.relative(dir, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
};

/** Why an action may not read a path, with what to do. */
export type HostPathRefusal = { never: string } | { outside: true };

/**
 * Why an action may not read the resolved, link-free path `real`, given the
 * resolved roots it may read under; undefined when it may. Pure.
 */
export function hostPathRefusal(real: string, roots: readonly string[]): HostPathRefusal | undefined {
  const never = NEVER_READ.find((dir) => within(real, dir));
  if (never) return { never };
  return roots.some((root) => within(real, root)) ? undefined : { outside: true };
}

/**
 * The path an action reads for a local path as written: resolved against
 * the base directory, its links resolved (all of them when the action reads
 * through a link; for copy-in, which copies a link itself, those of its
 * directory), and confined to the roots. Throws a HostPathError naming
 * the site when the path is missing or refused.
 */
export function confinedHostPath(written: string, throughLinks: boolean, roots: HostPathRoots, site: HostPathSite): string {
  const realpath = fs.realpathSync.native;
  const where = `image ${JSON.stringify(site.image)}: actions[${site.action}] (${site.type}).${site.field}`;
  const abs = path.resolve(roots.baseDir, written);
  let real: string;
  try {
    real = throughLinks ? realpath(abs) : path.join(realpath(path.dirname(abs)), path.basename(abs));
    if (!throughLinks) fs.lstatSync(real);
  } catch {
    throw new HostPathError(
      `${where}: ${abs} does not exist (relative paths are resolved against ${roots.baseDir})` +
        `${throughLinks ? "; a symbolic link there must lead to an existing file" : ""}`,
    );
  }
  const resolvedRoots = [roots.baseDir, ...roots.allowed].flatMap((dir) => {
    try {
      return [realpath(dir)];
    } catch {
      return [];
    }
  });
  const refused = hostPathRefusal(real, resolvedRoots);
  if (!refused) return real;
  const shown = real === written ? JSON.stringify(written) : `${JSON.stringify(written)} (${real})`;
  throw new HostPathError("never" in refused
    ? `${where}: ${shown} is under ${refused.never}, which actions never read, even where the hostPaths setting allows it; ` +
      `copy what the image needs into ${roots.baseDir}`
    : `${where}: ${shown} is outside ${roots.baseDir}${roots.allowed.length ? ` and the hostPaths setting (${roots.allowed.join(", ")})` : ""}; ` +
      `move it under ${roots.baseDir}, or add its directory to the hostPaths setting (vm-images:hostPaths)`);
}
