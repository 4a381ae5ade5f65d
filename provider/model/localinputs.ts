// The local files an image's actions read, and a hash of each, so that an
// edited bootstrap script changes the build key and `pulumi preview --diff`
// can name the file that changed.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { localPathsOf } from "../actions";
import type { ImageConfig } from "./config";
import { confinedHostPath, type HostPathRoots } from "./hostpaths";
import { sha256, sha256File } from "./hash";

/** The local paths an image reads, as written in its configuration, in action order. */
export function localPaths(img: ImageConfig): { action: number; field: string; path: string; throughLinks: boolean; keepsOwner: boolean }[] {
  return img.actions.flatMap((action, i) => localPathsOf(action).map((p) => ({ action: i, ...p })));
}

/**
 * sha256 of every file under the local paths the image reads, keyed by the
 * path as written (a directory contributes one entry per file inside it, as
 * `dir/sub/file`). Mode bits and symlink targets count as content. Each path
 * is confined first (hostpaths.ts), so a path the build would refuse is
 * refused here, at preview. Throws a readable error naming the image, action
 * and field of a missing or refused path.
 */
export async function hashLocalInputs(img: ImageConfig, roots: HostPathRoots): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const { action, field, path: written, throughLinks, keepsOwner } of localPaths(img)) {
    const site = { image: img.name, action, type: img.actions[action].type, field };
    const real = confinedHostPath(written, throughLinks, roots, site);
    // What the action reads: the file a link leads to for upload, tar-in and install-kernel; the link itself for copy-in.
    const st = throughLinks ? await fs.stat(real) : await fs.lstat(real);
    await hashTree(real, written, st, hashes);
    // An upload keeps its owner: a chown of the source is a different image.
    if (keepsOwner) hashes[written] = sha256(`${hashes[written]}\0owner\0${st.uid}:${st.gid}`);
  }
  return hashes;
}

async function hashTree(abs: string, key: string, st: import("node:fs").Stats, into: Record<string, string>): Promise<void> {
  const mode = (st.mode & 0o7777).toString(8);
  if (st.isSymbolicLink()) {
    into[key] = sha256(`link\0${await fs.readlink(abs)}`);
  } else if (st.isDirectory()) {
    into[`${key}/`] = sha256(`dir\0${mode}`);
    const entries = (await fs.readdir(abs)).sort();
    for (const e of entries) {
      const child = path.join(abs, e);
      await hashTree(child, path.posix.join(key, e), await fs.lstat(child), into);
    }
  } else if (st.isFile()) {
    into[key] = sha256(`file\0${mode}\0${await sha256File(abs)}`);
  } else {
    into[key] = sha256(`other\0${st.mode}`);
  }
}
