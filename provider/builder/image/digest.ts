// An image file's content digest, "sha256:<64 hex>" as `sha256sum` prints
// it: what a derived image's build key takes from its parent, and what the
// registry's annotation says. Raw images are sparse files of gigabytes, most
// of them holes: reading a hole fills the page cache with zeros (an 8 GiB
// image with 840 MB of data: about 25 s here the first time), so only the
// data is read, where `qemu-img map` says it is, and the holes are hashed as
// the zeros they read as. node's OpenSSL hashes with the CPU's SHA
// instructions where there are some, several times faster than coreutils'
// sha256sum (8 GiB: about 6 s against 27 s). In large chunks, so the event
// loop is never held for long and an interrupt is seen between chunks.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { MINUTE, run } from "../run/exec";
import { memoryLogger } from "../run/log";
import { InterruptedError } from "../run/steps";

/** The bytes read (or hashed as zeros) at a time: large enough that the hash, not the reads, is the cost. */
const CHUNK = 8 * 2 ** 20;
const ZEROS = Buffer.alloc(CHUNK);


/** A stretch of a file: data to read, or a hole, which reads as zeros. */
export interface Extent {
  start: number;
  length: number;
  data: boolean;
}

/** Whether extents cover a file of `size` bytes exactly, in order. */
export function coversFile(extents: readonly Extent[], size: number): boolean {
  let at = 0;
  for (const e of extents) {
    if (e.start !== at || e.length < 0) return false;
    at += e.length;
  }
  return at === size;
}

/** The file's data and holes (qemu-img map of the file as raw bytes: SEEK_DATA, SEEK_HOLE); undefined where it cannot tell. */
async function extentsOf(file: string, signal?: AbortSignal): Promise<Extent[] | undefined> {
  try {
    const out = await run("qemu-img", ["map", "-f", "raw", "--output=json", file], {
      label: "qemu-img map", log: memoryLogger(), signal, timeoutMs: MINUTE, capture: true,
    });
    return (JSON.parse(out) as { start: number; length: number; data: boolean }[]).map(({ start, length, data }) => ({ start, length, data }));
  } catch (err) {
    if (signal?.aborted) throw err;
    return undefined;
  }
}

/** The sha256 of a file's bytes, as "sha256:<hex>"; an abort is the interruption of image `name`'s build. */
export async function contentDigest(file: string, signal?: AbortSignal, name = path.basename(file)): Promise<string> {
  const hash = crypto.createHash("sha256");
  const handle = await fs.promises.open(file, "r");
  try {
    const { size } = await handle.stat();
    const found = await extentsOf(file, signal);
    const extents = found && coversFile(found, size) ? found : [{ start: 0, length: size, data: true }];
    const buf = Buffer.allocUnsafe(CHUNK);
    for (const e of extents) {
      for (let pos = e.start, end = e.start + e.length; pos < end;) {
        if (signal?.aborted) throw new InterruptedError(name);
        const want = Math.min(CHUNK, end - pos);
        if (!e.data) {
          hash.update(want === CHUNK ? ZEROS : ZEROS.subarray(0, want));
          pos += want;
          continue;
        }
        const { bytesRead } = await handle.read(buf, 0, want, pos);
        if (bytesRead === 0) throw new Error(`${file}: ended at ${pos} bytes, before its ${size}`);
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    }
  } finally {
    await handle.close();
  }
  return `sha256:${hash.digest("hex")}`;
}
