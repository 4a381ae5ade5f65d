// The .debs an image's apt downloaded, checked on the build host before
// they join the shared .deb cache: the image's own apt and package scripts
// are guest code, so what they leave in the archive directory proves
// nothing. A file joins only if a package index of the lists cache (which
// the build host's apt verified, or whose digest its InRelease gives, see
// sh/adopt-lists.sh) lists its SHA256 and size, under the name apt gives
// that package. The name and size are looked up before a byte is read, and
// no more than the listed size is ever copied: a sparse 1 TiB file, a FIFO
// or a link under a listed name costs the cache nothing.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { debsByArchiveName, type IndexedDebFile } from "../../model/debindex";

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
  /** Left out: not a regular file under a name and size a verified index lists, or not the content it lists. */
  refused: string[];
}

const CHUNK = 1 << 20;

/**
 * Copy `file` into `tmp` if it is a regular file of one of the sizes
 * `listed` gives, reading at most that many bytes, and return the entry
 * whose SHA256 the copy has; undefined, with nothing read, for anything else.
 * O_NOFOLLOW: a link swapped in after the lstat is not followed; O_NONBLOCK:
 * a FIFO swapped in does not hang the open.
 */
async function copyIfListed(file: string, tmp: string, listed: IndexedDebFile[]): Promise<IndexedDebFile | undefined> {
  const st = fs.lstatSync(file);
  const sized = listed.filter((d) => d.size === st.size);
  if (!st.isFile() || !sized.length) return undefined;
  let src: fs.promises.FileHandle;
  try {
    src = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const fst = await src.stat();
    if (!fst.isFile() || fst.size !== st.size) return undefined;
    const dst = await fs.promises.open(tmp, "wx", 0o644);
    const hash = createHash("sha256");
    const buf = Buffer.alloc(CHUNK);
    let total = 0;
    try {
      // One byte past the size is asked for, to see the file grew.
      for (;;) {
        const { bytesRead } = await src.read(buf, 0, Math.min(CHUNK, st.size + 1 - total), null);
        if (bytesRead === 0) break;
        total += bytesRead;
        if (total > st.size) return undefined;
        hash.update(buf.subarray(0, bytesRead));
        await dst.write(buf, 0, bytesRead);
      }
    } finally {
      await dst.close();
    }
    if (total !== st.size) return undefined;
    const sha = hash.digest("hex");
    return sized.find((d) => d.sha256 === sha);
  } finally {
    await src.close();
  }
}

/**
 * Adopt each `*.deb` of `dir` into `debCache` that a verified index lists
 * under its name, with its size and content: copied under a temporary name
 * and hashed while copied, then renamed into place (so a reader never sees
 * half a file, nor an unchecked one). A name the cache has already is left
 * as it is. `dir` is emptied of what it held, adopted or not.
 */
export async function adoptDebs(dir: string, debCache: string, listsCache: string): Promise<Adopted> {
  const result: Adopted = { adopted: [], refused: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith(".deb")).sort();
  } catch {
    return result;
  }
  let byName: Map<string, IndexedDebFile[]> | undefined;
  for (const name of names) {
    const file = path.join(dir, name);
    const tmp = path.join(debCache, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}`);
    try {
      if (fs.existsSync(path.join(debCache, name))) continue;
      byName ??= debsByArchiveName(indexes(listsCache));
      const listed = byName.get(name);
      if (listed && (await copyIfListed(file, tmp, listed))) {
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
