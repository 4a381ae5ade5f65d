// The local files an image's actions read, and a hash of each, so that an
// edited bootstrap script changes the build key and `pulumi preview --diff`
// can name the file that changed.
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { localPathsOf } from "../actions";
import type { ImageConfig } from "./config";
import { sha256, sha256File } from "./hash";

/** The local paths an image reads, as written in its configuration, in action order. */
export function localPaths(img: ImageConfig): { action: number; field: string; path: string; throughLinks: boolean }[] {
  return img.actions.flatMap((action, i) => localPathsOf(action).map((p) => ({ action: i, ...p })));
}

/** Resolve a local path of the configuration against the base directory (the images file's directory). */
export function resolveLocal(baseDir: string, p: string): string {
  return path.resolve(baseDir, p);
}

/**
 * sha256 of every file under the local paths the image reads, keyed by the
 * path as written (a directory contributes one entry per file inside it, as
 * `dir/sub/file`). Mode bits and symlink targets count as content.
 * Throws a readable error naming the image, action and field of a missing path.
 */
export async function hashLocalInputs(img: ImageConfig, baseDir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const { action, field, path: written, throughLinks } of localPaths(img)) {
    const abs = resolveLocal(baseDir, written);
    let st;
    try {
      // What the action reads: through a link for upload, tar-in and install-kernel; the link itself for copy-in.
      st = throughLinks ? await fs.stat(abs) : await fs.lstat(abs);
    } catch {
      const type = img.actions[action].type;
      throw new Error(
        `image ${JSON.stringify(img.name)}: actions[${action}] (${type}).${field}: ${abs} does not exist ` +
          `(relative paths are resolved against ${baseDir})${throughLinks ? "; a symbolic link there must lead to an existing file" : ""}`,
      );
    }
    await hashTree(abs, written, st, hashes);
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
