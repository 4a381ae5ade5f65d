// The .debs an image's apt downloaded, checked on the build host before
// they join the shared .deb cache: the image's own apt and package scripts
// are guest code, so what they leave in the archive directory proves
// nothing. A file joins only if a package index of the lists cache (which
// the build host's apt verified, or whose digest its InRelease gives, see
// sh/adopt-lists.sh) lists its SHA256 and size, under the name apt gives
// that package. Anything else is left out.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { archiveFileName, findBySha256 } from "../../model/debindex";
import { sha256File } from "../../model/hash";

/** The package indexes of the lists cache (apt's uncompressed Packages files). */
function indexes(listsCache: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(listsCache);
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith("_Packages") && !n.startsWith(".")).sort().flatMap((n) => {
    try {
      return [fs.readFileSync(path.join(listsCache, n), "latin1")];
    } catch {
      return [];
    }
  });
}

export interface Adopted {
  /** Joined the cache. */
  adopted: string[];
  /** Left out: listed in no verified index, or not under the name apt gives its package. */
  refused: string[];
}

/**
 * Copy each regular `*.deb` of `dir` into `debCache` under a temporary
 * name, and rename it into place if a verified index vouches for the copy
 * (so a reader never sees half a file, nor an unchecked one); a name the
 * cache has already is left as it is. `dir` is emptied of what it held,
 * adopted or not.
 */
export async function adoptDebs(dir: string, debCache: string, listsCache: string): Promise<Adopted> {
  const result: Adopted = { adopted: [], refused: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".deb")).sort();
  } catch {
    return result;
  }
  let texts: string[] | undefined;
  for (const name of names) {
    const file = path.join(dir, name);
    // The copy is what is checked, and then renamed into place.
    const tmp = path.join(debCache, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}`);
    try {
      const st = fs.lstatSync(file);
      if (!st.isFile() || fs.existsSync(path.join(debCache, name))) continue;
      fs.copyFileSync(file, tmp);
      const sha = await sha256File(tmp);
      texts ??= indexes(listsCache);
      const size = fs.statSync(tmp).size;
      if (texts.some((t) => { const d = findBySha256(t, sha); return d !== undefined && d.size === size && archiveFileName(d) === name; })) {
        fs.renameSync(tmp, path.join(debCache, name));
        result.adopted.push(name);
      } else {
        result.refused.push(name);
      }
    } catch {
      // Not adopted: the next build downloads it again.
    } finally {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(file, { force: true });
    }
  }
  return result;
}
