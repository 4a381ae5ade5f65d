// The per-user cache of built files: finished images by build key, and the
// disks of root images as they are after package installation (see
// rootstage.ts). An entry is a file and a `.json` record of its identity
// when stored; an entry whose file changed since (an image booted in place
// through a hard link, say) is no entry. Entries are hard links where the
// file system allows (images, which nothing writes once built) or sparse
// copies; `VM_IMAGES_CACHE_MAX` bounds the whole (default 20G, 0 turns the
// cache off), the least recently used going first.
import * as fs from "node:fs";
import * as path from "node:path";
import { byteLimit, type CacheEntry, evictions } from "../../model/cachepolicy";
import { type FileIdentity, identityOf, sameIdentity } from "../../model/identity";
import { MINUTE, run } from "../run/exec";
import { alive } from "../run/proc";
import type { Logger } from "../run/log";

export const DEFAULT_CACHE_MAX = "20G";

interface EntryRecord {
  identity: FileIdentity;
  /** Facts the entry was stored with (such as whether an image passed its boot check). */
  facts: { [k: string]: string | boolean | number };
}

/** How a file enters or leaves the cache: a hard link (falling back to a copy across file systems) or always a copy. */
export type Transfer = "link" | "copy";

export interface FileCacheOptions {
  log: Logger;
  label: string;
  signal?: AbortSignal;
}

/** The bound of `VM_IMAGES_CACHE_MAX`; throws naming the variable when it is not a size. */
export function cacheMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.VM_IMAGES_CACHE_MAX ?? DEFAULT_CACHE_MAX;
  const bytes = byteLimit(text);
  if (Number.isNaN(bytes)) throw new Error(`VM_IMAGES_CACHE_MAX=${JSON.stringify(text)} is not a size (such as 20G, 512M or 0 for no cache)`);
  return bytes;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class FileCache {
  constructor(readonly dir: string, readonly maxBytes: number) {}

  /** The cache in `VM_IMAGES_BUILT_CACHE_DIR`, else `<cacheDir>/built`; undefined when `VM_IMAGES_CACHE_MAX` is 0. */
  static of(cacheDir: string, env: NodeJS.ProcessEnv = process.env): FileCache | undefined {
    const max = cacheMaxBytes(env);
    const dir = env.VM_IMAGES_BUILT_CACHE_DIR ? path.resolve(env.VM_IMAGES_BUILT_CACHE_DIR) : path.join(cacheDir, "built");
    return max > 0 ? new FileCache(dir, max) : undefined;
  }

  private file(id: string): string {
    if (!ID.test(id)) throw new Error(`bad cache entry name ${JSON.stringify(id)}`);
    return path.join(this.dir, id);
  }

  private record(id: string): string {
    return `${this.file(id)}.json`;
  }

  /** The entry's facts if it is there and unchanged since it was stored (a changed one is removed). */
  lookup(id: string): EntryRecord["facts"] | undefined {
    let rec: EntryRecord;
    try {
      rec = JSON.parse(fs.readFileSync(this.record(id), "utf8")) as EntryRecord;
    } catch {
      return undefined;
    }
    if (!sameIdentity(rec.identity, identityOf(this.file(id)))) {
      this.remove(id);
      return undefined;
    }
    return rec.facts;
  }

  /** Put `file` (which stays as it is) in the cache as `id`, then keep the cache within its bound. */
  async store(id: string, file: string, how: Transfer, facts: EntryRecord["facts"], opts: FileCacheOptions): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const tmp = `${this.file(id)}.tmp-${process.pid}`;
    try {
      await transfer(file, tmp, how, opts);
      const identity = identityOf(tmp)!;
      fs.writeFileSync(`${tmp}.json`, `${JSON.stringify({ identity, facts } satisfies EntryRecord)}\n`);
      fs.renameSync(tmp, this.file(id));
      fs.renameSync(`${tmp}.json`, this.record(id));
    } finally {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(`${tmp}.json`, { force: true });
    }
    for (const gone of this.evict(id)) opts.log.line(opts.label, `cache: removed ${gone} (least recently used; VM_IMAGES_CACHE_MAX ${this.maxBytes} bytes)`);
  }

  /** Make `dest` the entry's file (a link or a copy, as asked); false when the entry is not there or changed. */
  async take(id: string, dest: string, how: Transfer, opts: FileCacheOptions): Promise<boolean> {
    if (!this.lookup(id)) return false;
    await transfer(this.file(id), dest, how, opts);
    // A link is the entry itself; a copy must still match the entry (it did not change meanwhile).
    if (how === "copy" && !this.lookup(id)) {
      fs.rmSync(dest, { force: true });
      return false;
    }
    const now = new Date();
    try {
      fs.utimesSync(this.record(id), now, now);
    } catch {
      // evicted meanwhile by another build: the file taken is complete anyway
    }
    return true;
  }

  remove(id: string): void {
    fs.rmSync(this.record(id), { force: true });
    fs.rmSync(this.file(id), { force: true });
  }

  /**
   * Remove the least recently used entries until the cache fits its bound,
   * and the temp files of stores whose process died; returns the entries' names.
   */
  evict(keep?: string): string[] {
    let all: string[];
    try {
      all = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    for (const n of all) {
      const m = /\.tmp-(\d+)(\.json)?$/.exec(n);
      if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) fs.rmSync(path.join(this.dir, n), { force: true });
    }
    const names = all.filter((n) => n.endsWith(".json") && !n.includes(".tmp-")).map((n) => n.slice(0, -5));
    const entries: CacheEntry[] = [];
    for (const id of names) {
      try {
        const st = fs.statSync(this.file(id));
        entries.push({ id, bytes: st.blocks * 512, usedMs: fs.statSync(this.record(id)).mtimeMs });
      } catch {
        this.remove(id);
      }
    }
    const gone = evictions(entries, this.maxBytes, keep);
    for (const id of gone) this.remove(id);
    return gone;
  }
}

/** A hard link (or, across file systems or when asked, a sparse copy) of `from` at `to`. */
async function transfer(from: string, to: string, how: Transfer, opts: FileCacheOptions): Promise<void> {
  fs.rmSync(to, { force: true });
  if (how === "link") {
    try {
      fs.linkSync(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
    }
  }
  await run("cp", ["--sparse=always", "--reflink=auto", "--", from, to], {
    label: opts.label, log: opts.log, signal: opts.signal, timeoutMs: 30 * MINUTE,
  });
}
